#include "os/process_stats.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace cjs::os {
namespace {

std::string read_small_file(const char* path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// "btime N" of /proc/stat: when the machine booted, in seconds since the epoch.
std::optional<double> boot_time_seconds() {
  std::istringstream stat(read_small_file("/proc/stat"));
  std::string key;
  double value = 0;
  while (stat >> key) {
    if (key == "btime" && stat >> value) return value;
    stat.ignore(1 << 20, '\n');
  }
  return std::nullopt;
}

std::uint64_t count_open_fds() {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return 0;
  std::uint64_t count = 0;
  while (dirent* entry = readdir(dir)) {
    if (entry->d_name[0] != '.') ++count;
  }
  closedir(dir);
  return count > 0 ? count - 1 : 0;  // not the one opendir() itself holds
}

}  // namespace

std::optional<ProcessStats> parse_proc_stat(std::string_view stat, long ticks_per_second,
                                            long page_size, double boot_time_seconds) {
  // "pid (comm) state ppid ...": comm may hold spaces and ')'; the fields
  // after it are numbered from 3 (state) on, as in proc(5).
  const auto close_paren = stat.rfind(')');
  if (close_paren == std::string_view::npos || ticks_per_second <= 0) return std::nullopt;
  std::istringstream rest{std::string(stat.substr(close_paren + 1))};
  std::vector<std::string> fields;
  for (std::string field; rest >> field;) fields.push_back(field);
  // fields[0] is field 3: field N is fields[N - 3]. utime 14, stime 15,
  // starttime 22, vsize 23, rss 24 (pages).
  if (fields.size() < 22) return std::nullopt;
  auto number = [&](int n) { return std::strtod(fields[n - 3].c_str(), nullptr); };
  ProcessStats stats;
  stats.cpu_seconds = (number(14) + number(15)) / static_cast<double>(ticks_per_second);
  stats.start_time_seconds = boot_time_seconds + number(22) / static_cast<double>(ticks_per_second);
  stats.vsize_bytes = static_cast<std::uint64_t>(number(23));
  stats.rss_bytes = static_cast<std::uint64_t>(number(24)) * static_cast<std::uint64_t>(page_size);
  return stats;
}

std::optional<ProcessStats> self_process_stats() {
  const std::optional<double> boot = boot_time_seconds();
  const std::string stat = read_small_file("/proc/self/stat");
  if (!boot || stat.empty()) return std::nullopt;
  std::optional<ProcessStats> stats =
      parse_proc_stat(stat, sysconf(_SC_CLK_TCK), sysconf(_SC_PAGESIZE), *boot);
  if (!stats) return std::nullopt;
  stats->open_fds = count_open_fds();
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0) stats->max_fds = limit.rlim_cur;
  return stats;
}

}  // namespace cjs::os
