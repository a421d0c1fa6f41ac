#include "jail/safe_remove.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace cjs::jail {
namespace {

constexpr int kDirOpenFlags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;

std::string describe(const char* what, const std::string& name) {
  return std::string(what) + " '" + name + "': " + std::strerror(errno);
}

// Unlinks every non-directory entry of the directory open as `fd` and returns
// the name of one subdirectory still present ("" when none is left).
bool clear_files(int fd, std::string& subdir, std::string& error) {
  subdir.clear();
  // Code running as our own uid (unprivileged service) may have taken away
  // our access to its directories; give the owner back rwx. Harmless as root.
  (void)fchmod(fd, S_IRWXU);
  int scan_fd = openat(fd, ".", kDirOpenFlags);
  if (scan_fd < 0) {
    error = describe("cannot reopen", ".");
    return false;
  }
  DIR* dir = fdopendir(scan_fd);
  if (dir == nullptr) {
    close(scan_fd);
    error = describe("cannot scan", ".");
    return false;
  }
  bool ok = true;
  while (dirent* entry = readdir(dir)) {
    std::string name = entry->d_name;
    if (name == "." || name == "..") continue;
    struct stat st {};
    if (fstatat(fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT) continue;
      error = describe("cannot stat", name);
      ok = false;
      break;
    }
    if (S_ISDIR(st.st_mode)) {
      if (subdir.empty()) subdir = name;
      continue;
    }
    if (unlinkat(fd, name.c_str(), 0) != 0 && errno != ENOENT) {
      error = describe("cannot unlink", name);
      ok = false;
      break;
    }
  }
  closedir(dir);
  return ok;
}

}  // namespace

bool remove_tree_nofollow(int parent_fd, const std::string& name, std::string& error) {
  // Depth-first without recursion: `path` holds the names from `name` down to
  // the current directory; only the current directory is open. We climb back
  // with "..", which is safe because every process that could rename things
  // here is dead before cleanup runs.
  std::vector<std::string> path{name};
  int fd = openat(parent_fd, name.c_str(), kDirOpenFlags);
  if (fd < 0) {
    if (errno == ENOENT) return true;
    error = describe("cannot open", name);
    return false;
  }
  while (true) {
    std::string subdir;
    if (!clear_files(fd, subdir, error)) {
      close(fd);
      return false;
    }
    if (!subdir.empty()) {
      int child = openat(fd, subdir.c_str(), kDirOpenFlags);
      if (child < 0 && errno == EACCES) {
        // Safe to name it again: it was just seen as a directory (not a
        // symlink) and nothing that could swap it is alive any more.
        // A failure shows in the openat below.
        [[maybe_unused]] const int chmod_status = fchmodat(fd, subdir.c_str(), S_IRWXU, 0);
        child = openat(fd, subdir.c_str(), kDirOpenFlags);
      }
      if (child < 0) {
        error = describe("cannot open", subdir);
        close(fd);
        return false;
      }
      close(fd);
      fd = child;
      path.push_back(subdir);
      continue;
    }
    // The current directory is empty: step up and remove it.
    std::string done = path.back();
    path.pop_back();
    int up = path.empty() ? dup(parent_fd) : openat(fd, "..", kDirOpenFlags);
    close(fd);
    if (up < 0) {
      error = describe("cannot climb from", done);
      return false;
    }
    fd = up;
    if (unlinkat(fd, done.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT) {
      error = describe("cannot remove directory", done);
      close(fd);
      return false;
    }
    if (path.empty()) {
      close(fd);
      return true;
    }
  }
}

}  // namespace cjs::jail
