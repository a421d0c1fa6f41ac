// Whole reads and writes on descriptors and files. Reads are capped: the
// size of what we read is never decided by what the other side sends.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace cjs::os {

struct ReadResult {
  std::string data;  // what was read, also before an error
  int error = 0;     // 0, an errno, or EFBIG when there was more than the cap
  explicit operator bool() const { return error == 0; }
};

// Everything until EOF (retrying EINTR); EFBIG as soon as more than `cap`
// bytes arrive (the data then holds at most `cap` bytes).
ReadResult read_all(int fd, std::size_t cap);

// The whole file at `path` (opened O_RDONLY | O_CLOEXEC), capped as above.
ReadResult read_file(const std::string& path, std::size_t cap);

// Writes all of `data`, continuing after partial writes and EINTR. False
// with errno set on error.
bool write_all(int fd, std::string_view data);

struct WriteResult {
  enum Stage { kOk, kOpen, kWrite, kShort };
  Stage stage = kOk;  // where it failed
  int error = 0;      // the errno of kOpen and kWrite
  explicit operator bool() const { return stage == kOk; }
};

// Writes `data` into the existing file at `path` with one write(): control
// files (cgroupfs, /proc/<pid>/uid_map) take one value per write. Never
// creates the file (no O_CREAT).
WriteResult write_file(const std::string& path, std::string_view data);

}  // namespace cjs::os
