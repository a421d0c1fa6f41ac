// Mount layer: the minimal file system a sandboxed run sees, built in a fresh
// mount namespace by the run's keeper (its pid 1):
//
//   /                tmpfs, read-only after setup
//   /usr, /etc, ...  read-only, nosuid, nodev binds of the host's (interpreter,
//                    its libraries; /etc exists so denials are EACCES, not ENOENT)
//   /bin -> usr/bin  symlinks mirroring the host's merged-/usr links
//   /dev             tmpfs with null, zero, full, random, urandom bound in
//   /proc            a procfs of the run's own pid namespace
//   /sys             an empty directory
//   /tmp             small tmpfs holding only codejail-XXXXXXXX, a bind of
//                    the host sandbox dir, whose tmp/ is a size-capped tmpfs
//                    owned by the sandbox uid (total disk use is bounded and
//                    nothing the code writes reaches the host)
//
// The plan is computed before fork; build_mount_view() only makes system calls.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <string>
#include <vector>

namespace cjs::jail {

struct MountStep {
  enum Kind {
    kMkdir,             // mkdir target
    kSymlink,           // symlink source -> target
    kBindReadOnly,      // bind source at target, then read-only/nosuid/nodev
    kBindFileReadOnly,  // create an empty file at target, bind the file source there, read-only
    kBindDevice,        // create empty file at target, bind the device node source there
    kBindWritable,      // bind source at target, nosuid/nodev/noexec, writable
    kTmpfs,             // mount a tmpfs at target with options `data`
    kProc,              // mount procfs at target
  };
  Kind kind;
  std::string source;
  std::string target;  // absolute host path under the staging root
  std::string data;    // mount data for kTmpfs
  unsigned long flags = 0;
};

struct MountPlan {
  std::string staging_root;  // an empty host directory used as the mountpoint of the new root
  std::vector<MountStep> steps;
};

struct MountViewInputs {
  std::string staging_root;                  // e.g. /tmp/.codejail-root
  std::vector<std::string> read_only_dirs;   // host dirs shown read-only at the same path
  std::vector<std::string> read_only_files;  // host files shown read-only at the same path
  std::string host_sandbox_dir;  // e.g. /tmp/codejail-abcd1234 or /var/lib/.../codejail-abcd1234
  std::string view_sandbox_dir;  // /tmp/codejail-abcd1234
  std::size_t tmp_size_bytes = 16u << 20;
  uid_t tmp_uid = 0;  // owner of tmp/ as seen from inside
  gid_t tmp_gid = 0;
};

// Computes the steps. Host symlinks among /bin, /sbin, /lib, /lib32, /lib64,
// /libx32 are mirrored; real directories there are bound read-only.
MountPlan plan_mount_view(const MountViewInputs& inputs);

// In the keeper, inside fresh mount and pid namespaces: makes every mount
// private, builds the view under the staging root, pivots into it and makes
// the root read-only. Returns 0 or an errno, with the failing step index in
// *failed_step (-1 for the pivot/remount phase).
int build_mount_view(const MountPlan& plan, int* failed_step);

}  // namespace cjs::jail
