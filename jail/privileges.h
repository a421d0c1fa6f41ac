// uid/capabilities layer: the interpreter runs as an unprivileged uid with
// no capabilities (bounding and ambient sets emptied), no supplementary
// groups, and no_new_privs (setuid binaries and file capabilities grant
// nothing; required by Landlock and seccomp).
#pragma once

#include <sys/types.h>

#include <optional>

namespace cjs::jail {

struct IdentityPlan {
  // Switch to this uid/gid (the service started as root). Unset when the
  // service is unprivileged: the code keeps the service's uid, inside a user
  // namespace of its own.
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

// Async-signal-safe. Returns 0 or an errno; *step says which step failed.
int drop_privileges(const IdentityPlan& plan, int* step);

// Only the uid/gid switch, without any hardening: what the reference does
// without its AppArmor profile. Used by sabotaged test runs only.
int switch_identity_only(const IdentityPlan& plan, int* step);

}  // namespace cjs::jail
