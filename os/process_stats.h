// What the kernel says about this process, for the standard process_*
// metrics that Prometheus client libraries export.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace cjs::os {

struct ProcessStats {
  double cpu_seconds = 0;         // user + system CPU time
  std::uint64_t rss_bytes = 0;    // resident memory
  std::uint64_t vsize_bytes = 0;  // virtual memory
  double start_time_seconds = 0;  // since the Unix epoch
  std::uint64_t open_fds = 0;
  std::uint64_t max_fds = 0;  // RLIMIT_NOFILE's soft limit
};

// This process's figures, from /proc/self/stat and /proc/self/fd; nothing
// when /proc cannot be read.
std::optional<ProcessStats> self_process_stats();

// The parts of a /proc/PID/stat line (`stat`) that ProcessStats holds,
// given the clock ticks per second, the page size and the boot time
// (seconds since the epoch); nothing when the line is malformed.
std::optional<ProcessStats> parse_proc_stat(std::string_view stat, long ticks_per_second,
                                            long page_size, double boot_time_seconds);

}  // namespace cjs::os
