#include "os/cgroupfs.h"

#include <sys/statfs.h>

#include <cstring>

#include "os/io.h"

namespace cjs::os {

std::optional<unsigned long> fs_magic(const std::string& path) {
  struct statfs st {};
  if (statfs(path.c_str(), &st) != 0) return std::nullopt;
  return static_cast<unsigned long>(st.f_type);
}

bool is_cgroup2(const std::string& path) { return fs_magic(path) == kCgroup2SuperMagic; }

std::optional<std::string> read_control_file(const std::string& path) {
  ReadResult read = read_file(path, kMaxControlFileBytes);
  if (!read) return std::nullopt;
  return std::move(read.data);
}

bool write_control_file(const std::string& path, const std::string& value, std::string& error) {
  WriteResult written = write_file(path, value);
  switch (written.stage) {
    case WriteResult::kOk:
      return true;
    case WriteResult::kOpen:
      error = "cannot open " + path + ": " + std::strerror(written.error);
      return false;
    case WriteResult::kWrite:
      error = "cannot write '" + value + "' to " + path + ": " + std::strerror(written.error);
      return false;
    case WriteResult::kShort:
      break;
  }
  error = "short write of '" + value + "' to " + path;
  return false;
}

}  // namespace cjs::os
