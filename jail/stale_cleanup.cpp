#include "jail/stale_cleanup.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "jail/safe_remove.h"

namespace cjs::jail {
namespace {

constexpr std::string_view kPrefix = "codejail-";
constexpr std::size_t kRandomChars = 8;

bool is_name_char(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; }

std::string describe(const std::string& what, const std::string& name, int err) {
  return what + " '" + name + "': " + std::strerror(err);
}

// Names of the entries of the directory `path` (empty when it cannot be read).
std::vector<std::string> list_dir(const std::string& path, std::vector<std::string>& errors) {
  std::vector<std::string> names;
  DIR* dir = opendir(path.c_str());
  if (dir == nullptr) {
    if (errno != ENOENT) errors.push_back(describe("cannot scan", path, errno));
    return names;
  }
  while (dirent* entry = readdir(dir)) names.emplace_back(entry->d_name);
  closedir(dir);
  return names;
}

double age_seconds(const struct stat& st) {
  struct timespec now {};
  clock_gettime(CLOCK_REALTIME, &now);
  return static_cast<double>(now.tv_sec - st.st_ctim.tv_sec) +
         static_cast<double>(now.tv_nsec - st.st_ctim.tv_nsec) / 1e9;
}

// One candidate under the open sandbox root: removed when stale.
void sweep_one(int root_fd, const std::string& name, double min_age, SweepReport& report) {
  struct stat st {};
  if (fstatat(root_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return;  // gone already
  // Only real directories we made: never a symlink, never someone else's.
  if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid()) return;
  if (age_seconds(st) < min_age) return;
  int fd = openat(root_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return;
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) ++report.dirs_live;
    close(fd);
    return;
  }
  // Still the same directory under that name (not removed and re-created).
  struct stat locked {};
  struct stat now {};
  if (fstat(fd, &locked) != 0 || fstatat(root_fd, name.c_str(), &now, AT_SYMLINK_NOFOLLOW) != 0 ||
      locked.st_dev != now.st_dev || locked.st_ino != now.st_ino) {
    close(fd);
    return;
  }
  // A sealed dir (0555) must be writable again for its entries to go.
  (void)fchmod(fd, 0755);
  std::string error;
  if (remove_tree_nofollow(root_fd, name, error)) {
    ++report.dirs_removed;
  } else {
    report.errors.push_back("cannot remove stale sandbox dir " + name + ": " + error);
  }
  close(fd);  // releases the lock
}

}  // namespace

bool is_sandbox_dir_name(std::string_view name) {
  if (name.size() != kPrefix.size() + kRandomChars || !name.starts_with(kPrefix)) return false;
  for (char c : name.substr(kPrefix.size())) {
    if (!is_name_char(c)) return false;
  }
  return true;
}

bool is_staging_dir_name(std::string_view name) {
  return name.size() > 5 && name.front() == '.' && name.ends_with(".new") &&
         is_sandbox_dir_name(name.substr(1, name.size() - 5));
}

SweepReport sweep_stale_sandbox_dirs(const std::string& sandbox_root, double min_age_seconds) {
  SweepReport report;
  int root_fd = open(sandbox_root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (root_fd < 0) {
    report.errors.push_back(describe("cannot open sandbox root", sandbox_root, errno));
    return report;
  }
  for (const auto& name : list_dir("/proc/self/fd/" + std::to_string(root_fd), report.errors)) {
    if (is_staging_dir_name(name) || is_sandbox_dir_name(name)) {
      sweep_one(root_fd, name, min_age_seconds, report);
    }
  }
  close(root_fd);
  return report;
}

SweepReport sweep_stale_run_cgroups(const std::vector<std::string>& cgroup_parents,
                                    const std::string& sandbox_root, double min_age_seconds) {
  SweepReport report;
  int root_fd = open(sandbox_root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (root_fd < 0) {
    report.errors.push_back(describe("cannot open sandbox root", sandbox_root, errno));
    return report;
  }
  for (const auto& parent : cgroup_parents) {
    for (const auto& name : list_dir(parent, report.errors)) {
      if (!is_sandbox_dir_name(name)) continue;
      struct stat st {};
      // The run's sandbox dir still exists: live, or stale and swept by the dir sweep.
      if (fstatat(root_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) continue;
      std::string path = parent + "/" + name;
      if (lstat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) continue;
      if (age_seconds(st) < min_age_seconds) continue;
      // rmdir removes a cgroup only when no process is left in it.
      if (rmdir(path.c_str()) == 0) {
        ++report.cgroups_removed;
      } else if (errno == EBUSY) {
        ++report.cgroups_busy;
      } else if (errno != ENOENT) {
        report.errors.push_back(describe("cannot remove stale run cgroup", path, errno));
      }
    }
  }
  close(root_fd);
  return report;
}

}  // namespace cjs::jail
