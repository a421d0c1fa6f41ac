#include "jail/privileges.h"

#include <grp.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

namespace cjs::jail {

int switch_identity_only(const IdentityPlan& plan, int* step) {
  if (plan.gid) {
    *step = kPrivGroups;
    if (setgroups(0, nullptr) != 0) return errno;
    *step = kPrivGid;
    if (setresgid(*plan.gid, *plan.gid, *plan.gid) != 0) return errno;
  }
  if (plan.uid) {
    *step = kPrivUid;
    if (setresuid(*plan.uid, *plan.uid, *plan.uid) != 0) return errno;
  }
  *step = 0;
  return 0;
}

int drop_privileges(const IdentityPlan& plan, int* step) {
  // The bounding set caps what any later exec could gain; emptying it needs
  // CAP_SETPCAP, which we still hold here (root, or root of our user ns).
  *step = kPrivBoundingSet;
  for (int cap = 0; cap <= 63; ++cap) {
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL) return errno;
  }
  *step = kPrivAmbient;
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL) {
    return errno;
  }
  if (int err = switch_identity_only(plan, step); err != 0) return err;
  // A uid switch away from 0 already cleared the capability sets; in a user
  // namespace (no switch) clear them explicitly.
  *step = kPrivCapabilities;
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
  if (syscall(SYS_capset, &header, data) != 0) return errno;
  *step = kPrivNoNewPrivs;
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return errno;
  *step = 0;
  return 0;
}

}  // namespace cjs::jail
