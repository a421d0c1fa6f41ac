#include "os/io.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace cjs::os {

ReadResult read_all(int fd, std::size_t cap) {
  ReadResult result;
  char buf[4096];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      result.error = errno;
      return result;
    }
    if (n == 0) return result;
    auto got = static_cast<std::size_t>(n);
    if (got > cap - result.data.size()) {
      result.data.append(buf, cap - result.data.size());
      result.error = EFBIG;
      return result;
    }
    result.data.append(buf, got);
  }
}

ReadResult read_file(const std::string& path, std::size_t cap) {
  int fd;
  do {
    fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) return ReadResult{{}, errno};
  ReadResult result = read_all(fd, cap);
  close(fd);
  return result;
}

bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

WriteResult write_file(const std::string& path, std::string_view data) {
  int fd;
  do {
    fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) return WriteResult{WriteResult::kOpen, errno};
  ssize_t n;
  do {
    n = write(fd, data.data(), data.size());
  } while (n < 0 && errno == EINTR);
  const int saved = errno;
  close(fd);
  if (n < 0) return WriteResult{WriteResult::kWrite, saved};
  if (static_cast<std::size_t>(n) != data.size()) return WriteResult{WriteResult::kShort, 0};
  return WriteResult{};
}

}  // namespace cjs::os
