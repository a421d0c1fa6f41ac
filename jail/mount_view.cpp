#include "jail/mount_view.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <set>

namespace cjs::jail {
namespace {

constexpr std::array<const char*, 6> kTopLevelLinks = {"/bin",   "/sbin",  "/lib",
                                                       "/lib32", "/lib64", "/libx32"};
constexpr std::array<const char*, 5> kDevices = {"/dev/null", "/dev/zero", "/dev/full",
                                                 "/dev/random", "/dev/urandom"};

// Adds mkdir steps for every missing ancestor of `path` (view path, absolute)
// and for `path` itself.
void add_dirs(MountPlan& plan, std::set<std::string>& made, const std::string& path) {
  std::size_t pos = 0;
  while (pos != std::string::npos) {
    pos = path.find('/', pos + 1);
    std::string prefix = path.substr(0, pos);
    if (prefix.empty() || !made.insert(prefix).second) continue;
    plan.steps.push_back({MountStep::kMkdir, "", plan.staging_root + prefix, "", 0});
  }
}

// The flags a read-only remount must carry over: in a user namespace the
// kernel refuses to clear flags the original mount has (MNT_LOCK_*).
unsigned long inherited_flags(const char* path) {
  struct statvfs st {};
  if (statvfs(path, &st) != 0) return 0;
  unsigned long flags = 0;
  if (st.f_flag & ST_NOEXEC) flags |= MS_NOEXEC;
  if (st.f_flag & ST_NOATIME) flags |= MS_NOATIME;
  if (st.f_flag & ST_NODIRATIME) flags |= MS_NODIRATIME;
  if (st.f_flag & ST_RELATIME) flags |= MS_RELATIME;
  return flags;
}

// struct mount_attr and its flags (linux/mount.h clashes with sys/mount.h
// under glibc 2.36, so spelled out here).
struct MountAttr {
  std::uint64_t attr_set, attr_clr, propagation, userns_fd;
};
constexpr std::uint64_t kAttrRdonly = 0x1, kAttrNosuid = 0x2, kAttrNodev = 0x4, kAttrNoexec = 0x8;
constexpr unsigned kAtRecursive = 0x8000;

// Applies the flags to the bind AND every mount below it (a plain remount
// only changes the top one, and e.g. a container's /etc/hosts bind would
// keep its own flags). Returns ENOSYS on kernels before 5.12.
int set_recursive(const std::string& target, unsigned long flags) {
  MountAttr attr{};
  if (flags & MS_RDONLY) attr.attr_set |= kAttrRdonly;
  if (flags & MS_NOSUID) attr.attr_set |= kAttrNosuid;
  if (flags & MS_NODEV) attr.attr_set |= kAttrNodev;
  if (flags & MS_NOEXEC) attr.attr_set |= kAttrNoexec;
  if (syscall(SYS_mount_setattr, AT_FDCWD, target.c_str(), kAtRecursive, &attr, sizeof attr) != 0) {
    return errno;
  }
  return 0;
}

int bind(const MountStep& step, unsigned long remount_flags) {
  if (mount(step.source.c_str(), step.target.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0) {
    return errno;
  }
  int err = set_recursive(step.target, remount_flags);
  if (err != ENOSYS) return err;
  unsigned long flags = MS_REMOUNT | MS_BIND | remount_flags | inherited_flags(step.target.c_str());
  if (mount(nullptr, step.target.c_str(), nullptr, flags, nullptr) != 0) return errno;
  return 0;
}

int run_step(const MountStep& step) {
  switch (step.kind) {
    case MountStep::kMkdir:
      if (mkdir(step.target.c_str(), 0755) != 0 && errno != EEXIST) return errno;
      return 0;
    case MountStep::kSymlink:
      if (symlink(step.source.c_str(), step.target.c_str()) != 0) return errno;
      return 0;
    case MountStep::kBindReadOnly:
      return bind(step, MS_RDONLY | MS_NOSUID | MS_NODEV);
    case MountStep::kBindFileReadOnly: {
      int fd = open(step.target.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
      if (fd < 0) return errno;
      close(fd);
      return bind(step, MS_RDONLY | MS_NOSUID | MS_NODEV);
    }
    case MountStep::kBindDevice: {
      int fd = open(step.target.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
      if (fd < 0) return errno;
      close(fd);
      return bind(step, MS_NOSUID | MS_NOEXEC);
    }
    case MountStep::kBindWritable:
      return bind(step, MS_NOSUID | MS_NODEV | MS_NOEXEC);
    case MountStep::kTmpfs:
      if (mount("tmpfs", step.target.c_str(), "tmpfs", step.flags, step.data.c_str()) != 0) {
        return errno;
      }
      return 0;
    case MountStep::kProc:
      if (mount("proc", step.target.c_str(), "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) !=
          0) {
        return errno;
      }
      return 0;
  }
  return EINVAL;
}

}  // namespace

MountPlan plan_mount_view(const MountViewInputs& in) {
  MountPlan plan;
  plan.staging_root = in.staging_root;
  std::set<std::string> made;
  const unsigned long kTmpfsFlags = MS_NOSUID | MS_NODEV | MS_NOEXEC;

  // The new root itself: a tiny tmpfs, remounted read-only after the pivot.
  plan.steps.push_back({MountStep::kTmpfs, "", in.staging_root, "size=1m,nr_inodes=4096,mode=0755",
                        MS_NOSUID | MS_NODEV});

  for (const char* link : kTopLevelLinks) {
    char target[PATH_MAX];
    ssize_t n = readlink(link, target, sizeof target - 1);
    if (n > 0) {
      plan.steps.push_back({MountStep::kSymlink, std::string(target, static_cast<std::size_t>(n)),
                            in.staging_root + link, "", 0});
      made.insert(link);
    } else {
      struct stat st {};
      if (lstat(link, &st) == 0 && S_ISDIR(st.st_mode)) {
        add_dirs(plan, made, link);
        plan.steps.push_back({MountStep::kBindReadOnly, link, in.staging_root + link, "", 0});
      }
    }
  }
  for (const auto& dir : in.read_only_dirs) {
    if (made.count(dir)) continue;
    add_dirs(plan, made, dir);
    plan.steps.push_back({MountStep::kBindReadOnly, dir, in.staging_root + dir, "", 0});
  }

  add_dirs(plan, made, "/dev");
  plan.steps.push_back({MountStep::kTmpfs, "", in.staging_root + "/dev",
                        "size=64k,nr_inodes=64,mode=0755", MS_NOSUID | MS_NOEXEC});
  for (const char* device : kDevices) {
    plan.steps.push_back({MountStep::kBindDevice, device, in.staging_root + device, "", 0});
  }
  add_dirs(plan, made, "/proc");
  plan.steps.push_back({MountStep::kProc, "", in.staging_root + "/proc", "", 0});
  add_dirs(plan, made, "/sys");

  add_dirs(plan, made, "/tmp");
  plan.steps.push_back({MountStep::kTmpfs, "", in.staging_root + "/tmp",
                        "size=64k,nr_inodes=64,mode=0755", kTmpfsFlags});
  add_dirs(plan, made, in.view_sandbox_dir);
  plan.steps.push_back({MountStep::kBindWritable, in.host_sandbox_dir,
                        in.staging_root + in.view_sandbox_dir, "", 0});
  // nr_inodes bounds inode exhaustion as size bounds bytes.
  std::size_t inodes = std::max<std::size_t>(1024, in.tmp_size_bytes / 1024);
  plan.steps.push_back(
      {MountStep::kTmpfs, "", in.staging_root + in.view_sandbox_dir + "/tmp",
       "size=" + std::to_string(in.tmp_size_bytes) + ",nr_inodes=" + std::to_string(inodes) +
           ",mode=0700,uid=" + std::to_string(in.tmp_uid) + ",gid=" + std::to_string(in.tmp_gid),
       kTmpfsFlags});
  // Last, so that no tmpfs mounted above (e.g. /tmp) can hide them.
  for (const auto& file : in.read_only_files) {
    std::string parent = file.substr(0, file.rfind('/'));
    bool covered = false;  // already visible through a bound directory
    for (const auto& dir : in.read_only_dirs) covered = covered || file.rfind(dir + "/", 0) == 0;
    if (covered) continue;
    if (!parent.empty()) add_dirs(plan, made, parent);
    plan.steps.push_back({MountStep::kBindFileReadOnly, file, in.staging_root + file, "", 0});
  }
  return plan;
}

int build_mount_view(const MountPlan& plan, int* failed_step) {
  *failed_step = -1;
  // Nothing we mount may propagate back to the host, nor host mounts to us.
  if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) return errno;
  for (std::size_t i = 0; i < plan.steps.size(); ++i) {
    if (int err = run_step(plan.steps[i]); err != 0) {
      *failed_step = static_cast<int>(i);
      return err;
    }
  }
  *failed_step = -1;
  // pivot_root(".", ".") stacks the old root on top of the new one; detaching
  // it leaves only the view. No directory for the old root is needed.
  if (chdir(plan.staging_root.c_str()) != 0) return errno;
  if (syscall(SYS_pivot_root, ".", ".") != 0) return errno;
  if (umount2(".", MNT_DETACH) != 0) return errno;
  if (chdir("/") != 0) return errno;
  if (mount(nullptr, "/", nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV,
            nullptr) != 0) {
    return errno;
  }
  return 0;
}

}  // namespace cjs::jail
