// uid/capabilities layer: the interpreter runs as an unprivileged uid with
// no capabilities (bounding and ambient sets emptied), no supplementary
// groups, and no_new_privs (setuid binaries and file capabilities grant
// nothing; required by Landlock and seccomp). The steps themselves are
// os/privileges.h's; this is the jail's plan for them.
#pragma once

#include "os/privileges.h"

namespace cjs::jail {

// Switch to this uid/gid (the service started as root). Unset when the
// service is unprivileged: the code keeps the service's uid, inside a user
// namespace of its own.
using IdentityPlan = os::Identity;

using os::kPrivAmbient;
using os::kPrivBoundingSet;
using os::kPrivCapabilities;
using os::kPrivGid;
using os::kPrivGroups;
using os::kPrivNoNewPrivs;
using os::kPrivUid;

// Every step, each required (PrivilegeDrop's defaults). Async-signal-safe.
// Returns 0 or an errno; *step says which step failed.
inline int drop_sandbox_privileges(const IdentityPlan& plan, int* step) {
  return os::drop_privileges(plan, os::PrivilegeDrop{}, step);
}

// Only the uid/gid switch, without any hardening: what the reference does
// without its AppArmor profile. Used by sabotaged test runs only.
inline int switch_identity_only(const IdentityPlan& plan, int* step) {
  return os::switch_identity(plan, step);
}

}  // namespace cjs::jail
