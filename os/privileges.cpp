#include "os/privileges.h"

#include <grp.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

namespace cjs::os {

int switch_identity(const Identity& identity, int* step) {
  if (identity.gid) {
    *step = kPrivGroups;
    if (setgroups(0, nullptr) != 0) return errno;
    *step = kPrivGid;
    if (setresgid(*identity.gid, *identity.gid, *identity.gid) != 0) return errno;
  }
  if (identity.uid) {
    *step = kPrivUid;
    if (setresuid(*identity.uid, *identity.uid, *identity.uid) != 0) return errno;
  }
  *step = 0;
  return 0;
}

int drop_privileges(const Identity& identity, const PrivilegeDrop& drop, int* step) {
  *step = kPrivBoundingSet;
  for (int cap = 0; cap <= 63; ++cap) {
    // EINVAL: a capability number this kernel does not have.
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL &&
        drop.bounding_set_required) {
      return errno;
    }
  }
  if (drop.clear_ambient) {
    *step = kPrivAmbient;
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL) {
      return errno;
    }
  }
  if (int err = switch_identity(identity, step); err != 0) return err;
  // A uid switch away from 0 already cleared the capability sets; in a user
  // namespace (no switch) clear them explicitly.
  *step = kPrivCapabilities;
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
  if (syscall(SYS_capset, &header, data) != 0) return errno;
  if (drop.no_new_privs) {
    *step = kPrivNoNewPrivs;
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return errno;
  }
  *step = 0;
  return 0;
}

}  // namespace cjs::os
