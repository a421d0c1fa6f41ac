// The cgroup filesystems as files: which mount is which (statfs), and
// reading and writing their control files.
#pragma once

#include <optional>
#include <string>

namespace cjs::os {

// statfs() f_type of cgroup v1 hierarchies and of cgroup2 mounts.
inline constexpr unsigned long kCgroupSuperMagic = 0x27e0eb;
inline constexpr unsigned long kCgroup2SuperMagic = 0x63677270;

// Control files are small; a cgroup.procs lists at most the group's pids.
inline constexpr std::size_t kMaxControlFileBytes = 1 << 20;

// statfs()'s f_type for `path`, or nullopt when statfs fails.
std::optional<unsigned long> fs_magic(const std::string& path);

// Whether `path` is on a cgroup2 mount.
bool is_cgroup2(const std::string& path);

// The whole control file, or nullopt when it cannot be opened or read
// (missing on older kernels, group already gone...).
std::optional<std::string> read_control_file(const std::string& path);

// Writes `value` with one write() (a control file takes one value per
// write), never creating the file: a missing control file is an error, not
// a new plain file (e.g. under a root that is not a cgroup mount). False
// with `error` saying what failed.
bool write_control_file(const std::string& path, const std::string& value, std::string& error);

}  // namespace cjs::os
