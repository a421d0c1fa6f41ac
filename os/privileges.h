// Giving up privileges: the uid/gid switch, the capability sets, and
// no_new_privs. Async-signal-safe (usable between fork and exec).
#pragma once

#include <sys/types.h>

#include <optional>

namespace cjs::os {

struct Identity {
  // Switch to this uid/gid; unset keeps the current one.
  std::optional<uid_t> uid;
  std::optional<gid_t> gid;
};

enum PrivilegeStep : int {
  kPrivBoundingSet = 1,
  kPrivAmbient,
  kPrivGroups,
  kPrivGid,
  kPrivUid,
  kPrivCapabilities,
  kPrivNoNewPrivs,
};

struct PrivilegeDrop {
  // Fail when the bounding set cannot be emptied (it needs CAP_SETPCAP);
  // otherwise the attempt is best effort (an unprivileged service has none).
  bool bounding_set_required = true;
  bool clear_ambient = true;  // empty the ambient set
  bool no_new_privs = true;   // set no_new_privs last
};

// In this order: the bounding set emptied (it caps what any later exec could
// gain; needs CAP_SETPCAP, gone after the uid switch), the ambient set
// cleared, the identity switched (switch_identity), the effective,
// permitted and inheritable sets cleared, no_new_privs set; each as `drop`
// says. Returns 0 or an errno; *step says which step failed.
int drop_privileges(const Identity& identity, const PrivilegeDrop& drop, int* step);

// Only the identity switch: no supplementary groups, then gid, then uid
// (each where given). Returns 0 or an errno; *step says which step failed.
int switch_identity(const Identity& identity, int* step);

}  // namespace cjs::os
