#include "jail/sandbox_dir.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>
#include <system_error>

#include "jail/safe_remove.h"
#include "os/fd.h"
#include "os/io.h"

namespace cjs::jail {
namespace {

[[noreturn]] void throw_errno(const std::string& what) {
  throw std::system_error(errno, std::generic_category(), what);
}

}  // namespace

bool is_safe_file_name(std::string_view name) {
  return !name.empty() && name.size() <= 255 && name != "." && name != ".." &&
         name.find('/') == std::string_view::npos && name.find('\0') == std::string_view::npos;
}

std::string random_sandbox_name() {
  static constexpr std::string_view kAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789_";
  unsigned char bytes[8];
  std::size_t got = 0;
  while (got < sizeof bytes) {
    ssize_t n = getrandom(bytes + got, sizeof bytes - got, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_errno("getrandom");
    }
    got += static_cast<std::size_t>(n);
  }
  std::string name = "codejail-";
  // 37 symbols: the modulo bias is irrelevant for uniqueness (mkdir is exclusive).
  for (unsigned char b : bytes) name += kAlphabet[b % kAlphabet.size()];
  return name;
}

SandboxDir SandboxDir::create(const std::string& root, std::optional<Ownership> tmp_owner) {
  if (root.empty() || root.front() != '/') {
    throw std::invalid_argument("sandbox root must be an absolute path: " + root);
  }
  int root_fd = open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (root_fd < 0) throw_errno("cannot open sandbox root " + root);
  const os::Fd root_guard(root_fd);
  // Prepared under a staging name, locked, then renamed into place: a dir
  // under its final name is always locked while its run lives, so the sweep
  // of stale dirs (jail/stale_cleanup.h) can never take a live one.
  for (int attempt = 0;; ++attempt) {
    std::string name = random_sandbox_name();
    std::string staging = "." + name + ".new";
    if (mkdirat(root_fd, staging.c_str(), 0755) != 0) {
      if (errno == EEXIST && attempt < 16) continue;
      throw_errno("cannot create sandbox dir in " + root);
    }
    std::string host_path = root == "/" ? "/" + name : root + "/" + name;
    // Removes the staging dir if anything below throws.
    int dir_root_fd = dup(root_fd);
    if (dir_root_fd < 0) {
      int saved = errno;
      (void)unlinkat(root_fd, staging.c_str(), AT_REMOVEDIR);
      errno = saved;
      throw_errno("dup");
    }
    SandboxDir dir(dir_root_fd, staging, host_path);
    dir.lock_fd_ =
        openat(root_fd, staging.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dir.lock_fd_ < 0) throw_errno("open " + host_path);
    if (flock(dir.lock_fd_, LOCK_EX) != 0) throw_errno("lock " + host_path);
    // mkdir's mode is filtered by the umask; set the exact bits.
    if (fchmod(dir.lock_fd_, 0755) != 0) throw_errno("chmod " + host_path);
    const int fd = dir.lock_fd_;
    bool ok = mkdirat(fd, "tmp", 0700) == 0 && fchmodat(fd, "tmp", 0700, 0) == 0 &&
              (!tmp_owner ||
               fchownat(fd, "tmp", tmp_owner->uid, tmp_owner->gid, AT_SYMLINK_NOFOLLOW) == 0);
    if (!ok) throw_errno("cannot prepare " + host_path + "/tmp");
    if (renameat2(root_fd, staging.c_str(), root_fd, name.c_str(), RENAME_NOREPLACE) != 0) {
      if (errno == EEXIST && attempt < 16) continue;  // `dir` removes the staging dir
      throw_errno("cannot rename the sandbox dir into place: " + host_path);
    }
    dir.name_ = name;
    return dir;
  }
}

SandboxDir::SandboxDir(int root_fd, std::string name, std::string host_path)
    : root_fd_(root_fd), name_(std::move(name)), host_path_(std::move(host_path)) {}

SandboxDir::SandboxDir(SandboxDir&& other) noexcept
    : root_fd_(other.root_fd_),
      lock_fd_(other.lock_fd_),
      name_(std::move(other.name_)),
      host_path_(std::move(other.host_path_)),
      removed_(other.removed_) {
  other.root_fd_ = -1;
  other.lock_fd_ = -1;
  other.removed_ = true;
}

SandboxDir::~SandboxDir() {
  std::string error;
  remove(error);  // callers that care about failures call remove() themselves
  if (root_fd_ >= 0) close(root_fd_);
  if (lock_fd_ >= 0) close(lock_fd_);  // only now may a sweep take what is left
}

void SandboxDir::create_file(std::string_view file_name, std::string_view content) {
  if (!is_safe_file_name(file_name)) {
    throw std::invalid_argument("refusing unsafe file name in sandbox dir");
  }
  int dir_fd = openat(root_fd_, name_.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dir_fd < 0) throw_errno("open " + host_path_);
  std::string name(file_name);
  int fd = openat(dir_fd, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  int saved = errno;
  close(dir_fd);
  if (fd < 0) {
    errno = saved;
    throw_errno("create " + host_path_ + "/" + name);
  }
  bool ok = fchmod(fd, 0644) == 0 && os::write_all(fd, content);
  saved = errno;
  close(fd);
  if (!ok) {
    errno = saved;
    throw_errno("write " + host_path_ + "/" + name);
  }
}

void SandboxDir::seal() {
  if (fchmodat(root_fd_, name_.c_str(), 0555, 0) != 0) throw_errno("chmod " + host_path_);
}

void SandboxDir::unseal() {
  if (fchmodat(root_fd_, name_.c_str(), 0755, 0) != 0) throw_errno("chmod " + host_path_);
}

void SandboxDir::stamp_now() {
  timespec now{};
  clock_gettime(CLOCK_REALTIME, &now);
  const timespec times[2] = {now, now};
  const os::Fd dir(openat(lock_fd_, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir) throw_errno("open " + host_path_);
  DIR* listing = fdopendir(dup(dir.get()));
  if (listing == nullptr) throw_errno("list " + host_path_);
  while (dirent* entry = readdir(listing)) {
    const std::string_view name = entry->d_name;
    if (name == "." || name == "..") continue;
    if (utimensat(dir.get(), entry->d_name, times, AT_SYMLINK_NOFOLLOW) != 0) {
      const int saved = errno;
      closedir(listing);
      errno = saved;
      throw_errno("set the times of " + host_path_ + "/" + entry->d_name);
    }
  }
  closedir(listing);
  if (futimens(lock_fd_, times) != 0) throw_errno("set the times of " + host_path_);
}

bool SandboxDir::remove(std::string& error) {
  if (removed_) return true;
  // Make the top directory writable again so its entries can be unlinked
  // (a failure shows as an entry remove_tree_nofollow cannot remove).
  [[maybe_unused]] const int chmod_status = fchmodat(root_fd_, name_.c_str(), 0755, 0);
  removed_ = remove_tree_nofollow(root_fd_, name_, error);
  return removed_;
}

}  // namespace cjs::jail
