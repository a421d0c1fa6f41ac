// Owners of file descriptors: an Fd closes what it holds, a Pipe is two Fds.
#pragma once

#include <sys/types.h>

#include <optional>
#include <utility>

namespace cjs::os {

// An owned file descriptor (-1 when empty).
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& o) noexcept : fd_(o.release()) {}
  Fd& operator=(Fd&& o) noexcept {
    reset(o.release());
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }

  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }
  void reset(int fd = -1);
  explicit operator bool() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

struct Pipe {
  Fd read_end, write_end;
};

// pipe2(O_CLOEXEC): nullopt with errno set on failure.
std::optional<Pipe> open_pipe();

// The same, throwing std::system_error("pipe2") on failure.
Pipe make_pipe();

// A pidfd for `pid` (close-on-exec), or -1 with errno set (ENOSYS where the
// kernel headers or the kernel lack pidfd_open).
int pidfd_open(pid_t pid);

}  // namespace cjs::os
