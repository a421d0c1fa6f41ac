#include "jail/cgroups.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <climits>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <set>
#include <string_view>
#include <thread>
#include <utility>

#include "common/log.h"
#include "os/cgroup_leaf.h"
#include "os/cgroupfs.h"
#include "os/fd.h"
#include "os/path.h"
#include "os/text.h"

namespace cjs::jail {
namespace {

using Clock = std::chrono::steady_clock;

using os::basename_of;
using os::dirname_of;
using os::fs_magic;
using os::has_word;
using os::kCgroup2SuperMagic;
using os::kCgroupSuperMagic;
using os::path_join;
using os::read_control_file;
using os::split_words;
using os::write_control_file;

// v2 leaf our own process moves into: a cgroup with children may not hold
// processes itself ("no internal processes"), so we step aside. The
// supervisor moves itself there first (os/cgroup_leaf.h).
constexpr const char* kServiceLeaf = os::kCgroupServiceLeaf;

constexpr auto kKillTimeout = std::chrono::seconds(2);
constexpr auto kRemoveTimeout = std::chrono::seconds(1);
constexpr auto kPollInterval = std::chrono::milliseconds(1);

std::string errno_text(int err) { return std::strerror(err); }

bool exists(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0;
}

bool is_dir(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// "a b c" from any whitespace-separated list, "none" when empty (for messages).
std::string word_list(std::string_view text) {
  std::string out;
  for (auto w : split_words(text)) out += (out.empty() ? "" : " ") + std::string(w);
  return out.empty() ? "none" : out;
}

std::optional<std::int64_t> parse_int(std::string_view text) {
  auto words = split_words(text);
  if (words.size() != 1) return std::nullopt;
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(words[0].data(), words[0].data() + words[0].size(), value);
  if (ec != std::errc() || end != words[0].data() + words[0].size()) return std::nullopt;
  return value;
}

std::optional<std::int64_t> read_int(const std::string& path) {
  auto text = read_control_file(path);
  if (!text) return std::nullopt;
  return parse_int(*text);
}

// Value of a "key N" line in a flat-keyed file (memory.events, memory.oom_control).
std::optional<std::int64_t> read_key(const std::string& path, std::string_view key) {
  auto text = read_control_file(path);
  if (!text) return std::nullopt;
  std::string_view rest = *text;
  while (!rest.empty()) {
    size_t eol = rest.find('\n');
    std::string_view line = rest.substr(0, eol);
    rest = eol == std::string_view::npos ? std::string_view() : rest.substr(eol + 1);
    auto words = split_words(line);
    if (words.size() == 2 && words[0] == key) return parse_int(words[1]);
  }
  return std::nullopt;
}

bool positive(const std::optional<std::int64_t>& value) { return value && *value > 0; }

// One path component: no separators, no way up or sideways.
bool valid_name(const std::string& name) {
  return !name.empty() && name != "." && name != ".." && name.find('/') == std::string::npos &&
         name.find('\0') == std::string::npos;
}

// Our own cgroup path from /proc/self/cgroup: the "0::/path" line for v2
// (controller ""), else the "N:a,b:/path" line whose list has `controller`.
std::optional<std::string> own_cgroup_path(std::string_view controller) {
  auto text = read_control_file("/proc/self/cgroup");
  if (!text) return std::nullopt;
  std::string_view rest = *text;
  while (!rest.empty()) {
    size_t eol = rest.find('\n');
    std::string_view line = rest.substr(0, eol);
    rest = eol == std::string_view::npos ? std::string_view() : rest.substr(eol + 1);
    size_t c1 = line.find(':');
    if (c1 == std::string_view::npos) continue;
    size_t c2 = line.find(':', c1 + 1);
    if (c2 == std::string_view::npos) continue;
    std::string_view id = line.substr(0, c1);
    std::string_view list = line.substr(c1 + 1, c2 - c1 - 1);
    std::string_view path = line.substr(c2 + 1);
    if (controller.empty()) {
      if (id == "0" && list.empty()) return std::string(path);
      continue;
    }
    while (!list.empty()) {
      size_t comma = list.find(',');
      if (list.substr(0, comma) == controller) return std::string(path);
      list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
    }
  }
  return std::nullopt;
}

// mkdir that tolerates an existing directory; records what it created.
bool ensure_dir(const std::string& path, std::vector<std::string>& created, std::string& error) {
  if (mkdir(path.c_str(), 0755) == 0) {
    created.push_back(path);
    return true;
  }
  if (errno == EEXIST && is_dir(path)) return true;
  error = "cannot create " + path + ": " + errno_text(errno);
  return false;
}

void remove_created(std::vector<std::string>& created) {
  for (auto it = created.rbegin(); it != created.rend(); ++it) (void)rmdir(it->c_str());
  created.clear();
}

// Prepares the v2 parent; returns it, or sets `reason`.
std::optional<std::string> setup_v2(const std::string& root, const std::string& group, bool& cpu,
                                    std::string& reason) {
  if (group == kServiceLeaf) {
    reason = "group name '" + group + "' collides with the service leaf";
    return std::nullopt;
  }
  auto own = own_cgroup_path("");
  if (!own || own->empty() || own->front() != '/') {
    reason = "no cgroup v2 entry in /proc/self/cgroup";
    return std::nullopt;
  }
  std::string own_dir = path_join(root, *own);
  if (!is_dir(own_dir)) {
    reason = "our cgroup " + own_dir + " is not visible under " + root;
    return std::nullopt;
  }
  std::string base = own_dir;
  std::vector<std::string> created;
  std::string error;
  if (*own != "/" && basename_of(*own) == kServiceLeaf) {
    // Already moved aside by an earlier detect(): the delegated group is the parent.
    base = dirname_of(own_dir);
  } else {
    std::string leaf = path_join(base, kServiceLeaf);
    if (!ensure_dir(leaf, created, error)) {
      reason = error;
      return std::nullopt;
    }
    // "0" moves the writing process (all its threads).
    if (!write_control_file(path_join(leaf, "cgroup.procs"), "0", error)) {
      remove_created(created);
      reason = "cannot move the service into " + leaf + ": " + error;
      return std::nullopt;
    }
  }
  auto controllers = read_control_file(path_join(base, "cgroup.controllers")).value_or("");
  if (!has_word(controllers, "memory") || !has_word(controllers, "pids")) {
    reason = "memory/pids not delegated to " + base + " (it has: " + word_list(controllers) + ")";
    return std::nullopt;
  }
  // cpu is optional, for equal weights per run (enabling it fails while a
  // realtime task is in the subtree, for one): without it, memory and pids
  // still stand, and the CPU accounting (cpu.stat usage_usec) exists in
  // every v2 group regardless.
  cpu = has_word(controllers, "cpu");
  auto enable = [&](const std::string& dir) {
    const std::string file = path_join(dir, "cgroup.subtree_control");
    std::string ignored;
    if (cpu && write_control_file(file, "+memory +pids +cpu", ignored)) return true;
    cpu = false;
    return write_control_file(file, "+memory +pids", error);
  };
  if (!enable(base)) {
    reason = error;
    return std::nullopt;
  }
  std::string parent = path_join(base, group);
  created.clear();  // the leaf now holds us; never remove it
  if (!ensure_dir(parent, created, error) || !enable(parent)) {
    remove_created(created);
    reason = error;
    return std::nullopt;
  }
  return parent;
}

struct V1Parent {
  std::string path;
  bool memory = false;
  bool pids = false;
};

// Prepares the v1 parent(s) (one per hierarchy; one if memory and pids are
// co-mounted); returns them, or sets `reason`.
std::optional<std::vector<V1Parent>> setup_v1(const std::string& root, const std::string& group,
                                              std::string& reason) {
  const char* names[] = {"memory", "pids"};
  struct stat hier_st[2]{};
  for (int i = 0; i < 2; ++i) {
    std::string hier = path_join(root, names[i]);
    auto magic = fs_magic(hier);
    if (!magic) {
      reason = hier + " is missing";
      return std::nullopt;
    }
    if (*magic != kCgroupSuperMagic || stat(hier.c_str(), &hier_st[i]) != 0) {
      reason = hier + " is not a cgroup v1 hierarchy";
      return std::nullopt;
    }
  }
  std::vector<V1Parent> parents;
  std::vector<std::string> created;
  bool comounted = hier_st[0].st_dev == hier_st[1].st_dev;
  for (int i = 0; i < (comounted ? 1 : 2); ++i) {
    std::string hier = path_join(root, names[i]);
    // Nest under our own group in the hierarchy where it is visible (it is
    // not when the mount shows only a subtree, e.g. in a container).
    std::string base = hier;
    if (auto own = own_cgroup_path(names[i]); own && is_dir(path_join(hier, *own))) {
      base = path_join(hier, *own);
    }
    V1Parent parent{path_join(base, group), i == 0 || comounted, i == 1 || comounted};
    std::string error;
    if (!ensure_dir(parent.path, created, error)) {
      remove_created(created);
      reason = error;
      return std::nullopt;
    }
    for (const char* file : {"memory.limit_in_bytes", "pids.max"}) {
      bool wanted = std::string_view(file).starts_with("memory") ? parent.memory : parent.pids;
      if (wanted && !exists(path_join(parent.path, file))) {
        remove_created(created);
        reason = parent.path + " has no " + file;
        return std::nullopt;
      }
    }
    parents.push_back(parent);
  }
  return parents;
}

// Sends `signal` (SIGKILL unless said otherwise) to what `procs_file` lists
// but `except`; false when it lists nothing (or is gone). A pid is signalled
// through a pidfd opened before checking that the pid is still listed, so a
// recycled pid outside the group is never hit.
bool kill_listed(const std::string& procs_file, int signal = SIGKILL, pid_t except = 0) {
  auto first = read_control_file(procs_file);
  if (!first) return false;
  auto words = split_words(*first);
  if (words.empty()) return false;
  std::vector<std::pair<pid_t, int>> targets;
  for (auto w : words) {
    auto pid = parse_int(w);
    if (!pid || *pid <= 0 || *pid == except) continue;
    int fd = -1;
    fd = os::pidfd_open(static_cast<pid_t>(*pid));
    if (fd < 0 && errno == ESRCH) continue;  // already gone; other errors: plain kill()
    targets.emplace_back(static_cast<pid_t>(*pid), fd);
  }
  std::set<std::int64_t> still;
  if (auto second = read_control_file(procs_file)) {
    for (auto w : split_words(*second)) {
      if (auto pid = parse_int(w)) still.insert(*pid);
    }
  }
  for (auto [pid, fd] : targets) {
    if (still.count(pid) != 0) {
#ifdef SYS_pidfd_send_signal
      if (fd >= 0) {
        (void)syscall(SYS_pidfd_send_signal, fd, signal, nullptr, 0);
      } else {
        (void)kill(pid, signal);  // no pidfd (old kernel, fd shortage)
      }
#else
      (void)kill(pid, signal);
#endif
    }
    if (fd >= 0) close(fd);
  }
  return true;
}

struct RunDir {
  std::string path;
  bool memory = false;
  bool pids = false;
  bool cpu = false;      // the cpu controller (weight, quota)
  bool cpuacct = false;  // v1 CPU accounting
};

// Whether a comma-separated controller list ("memory,pids") names `name`.
bool lists(std::string_view list, std::string_view name) {
  while (!list.empty()) {
    const std::size_t comma = list.find(',');
    if (list.substr(0, comma) == name) return true;
    list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
  }
  return false;
}

class RunCgroupImpl final : public RunCgroup {
 public:
  explicit RunCgroupImpl(CgroupManager::Mode mode) : mode_(mode) {}
  RunCgroupImpl(const RunCgroupImpl&) = delete;
  RunCgroupImpl& operator=(const RunCgroupImpl&) = delete;
  ~RunCgroupImpl() override;

  // Creates the group dir; it is removed again by the destructor.
  bool add_dir(const RunDir& dir, std::string& error);
  bool apply_limits(const CgroupLimits& limits, std::string& error);
  bool apply_cpu_limits(const std::string& dir, double cores, std::string& error);

  bool attach(pid_t pid, std::string& error) override;
  std::vector<std::string> self_attach_files() const override;
  void kill_all() override;
  std::optional<std::int64_t> memory_peak_bytes() const override;
  bool hit_memory_limit() const override;
  std::optional<std::int64_t> cpu_usage_usec() const override;
  void signal_all(int signal, pid_t except) override;

 private:
  const RunDir* memory_dir() const {
    for (const auto& d : dirs_) {
      if (d.memory) return &d;
    }
    return nullptr;
  }

  CgroupManager::Mode mode_;
  std::vector<RunDir> dirs_;
};

RunCgroupImpl::~RunCgroupImpl() {
  kill_all();
  auto deadline = Clock::now() + kRemoveTimeout;
  for (auto it = dirs_.rbegin(); it != dirs_.rend(); ++it) {
    for (;;) {
      if (rmdir(it->path.c_str()) == 0 || errno == ENOENT) break;
      int err = errno;
      // EBUSY: a dying process has not left yet.
      if (err != EBUSY || Clock::now() >= deadline) {
        log::warning("cannot remove run cgroup",
                     {{"path", json::Value(it->path)}, {"error", json::Value(errno_text(err))}});
        break;
      }
      (void)kill_listed(path_join(it->path, "cgroup.procs"));
      std::this_thread::sleep_for(kPollInterval);
    }
  }
}

bool RunCgroupImpl::add_dir(const RunDir& dir, std::string& error) {
  // An existing dir is not ours (names are unique per run): refuse it.
  if (mkdir(dir.path.c_str(), 0755) != 0) {
    error = "cannot create " + dir.path + ": " + errno_text(errno);
    return false;
  }
  dirs_.push_back(dir);
  return true;
}

// The same weight for every run (the kernel's default, written so that a
// changed parent default cannot skew it), and the optional quota.
bool RunCgroupImpl::apply_cpu_limits(const std::string& dir, double cores, std::string& error) {
  constexpr long kPeriodUsec = 100000;
  const long quota = static_cast<long>(cores * kPeriodUsec);
  if (mode_ == CgroupManager::Mode::kV2) {
    return write_control_file(path_join(dir, "cpu.weight"), "100", error) &&
           (cores <= 0 ||
            write_control_file(
                path_join(dir, "cpu.max"),
                std::to_string(std::max(quota, 1000L)) + " " + std::to_string(kPeriodUsec), error));
  }
  return write_control_file(path_join(dir, "cpu.shares"), "1024", error) &&
         (cores <= 0 || (write_control_file(path_join(dir, "cpu.cfs_period_us"),
                                            std::to_string(kPeriodUsec), error) &&
                         write_control_file(path_join(dir, "cpu.cfs_quota_us"),
                                            std::to_string(std::max(quota, 1000L)), error)));
}

bool RunCgroupImpl::apply_limits(const CgroupLimits& limits, std::string& error) {
  for (const auto& d : dirs_) {
    auto file = [&d](const char* name) { return path_join(d.path, name); };
    if (d.memory && mode_ == CgroupManager::Mode::kV2) {
      if (limits.memory_bytes > 0 &&
          !write_control_file(file("memory.max"), std::to_string(limits.memory_bytes), error)) {
        return false;
      }
      // Absent without swap accounting; then there is no swap to cap.
      if (exists(file("memory.swap.max")) &&
          !write_control_file(file("memory.swap.max"), "0", error)) {
        return false;
      }
      // No memory.oom.group: it would kill the run's keeper too, losing the
      // run's status. The OOM killer takes the interpreter (it volunteers
      // with oom_score_adj 1000) and the pid namespace takes the rest.
    } else if (d.memory && limits.memory_bytes > 0) {
      std::string value = std::to_string(limits.memory_bytes);
      if (!write_control_file(file("memory.limit_in_bytes"), value, error)) return false;
      if (exists(file("memory.memsw.limit_in_bytes"))) {
        // memory+swap == memory: no swap use (must be set after the memory limit).
        if (!write_control_file(file("memory.memsw.limit_in_bytes"), value, error)) return false;
      } else {
        // No swap accounting: at least make the group avoid swapping.
        std::string ignored;
        (void)write_control_file(file("memory.swappiness"), "0", ignored);
      }
    }
    if (d.pids && limits.pids_max > 0 &&
        !write_control_file(file("pids.max"), std::to_string(limits.pids_max), error)) {
      return false;
    }
    if (d.cpu && !apply_cpu_limits(d.path, limits.cpu_max_cores, error)) return false;
  }
  return true;
}

bool RunCgroupImpl::attach(pid_t pid, std::string& error) {
  if (pid <= 0) {
    error = "invalid pid " + std::to_string(pid);
    return false;
  }
  for (const auto& d : dirs_) {
    std::string detail;
    if (!write_control_file(path_join(d.path, "cgroup.procs"), std::to_string(pid), detail)) {
      error = "cannot attach pid " + std::to_string(pid) + ": " + detail;
      return false;
    }
  }
  return true;
}

std::vector<std::string> RunCgroupImpl::self_attach_files() const {
  std::vector<std::string> files;
  if (mode_ != CgroupManager::Mode::kV1) return files;
  for (const auto& d : dirs_) files.push_back(path_join(d.path, "tasks"));
  return files;
}

void RunCgroupImpl::kill_all() {
  if (mode_ == CgroupManager::Mode::kV2) {
    for (const auto& d : dirs_) {
      std::string kill_file = path_join(d.path, "cgroup.kill");
      std::string ignored;
      if (exists(kill_file)) (void)write_control_file(kill_file, "1", ignored);
    }
  }
  // Also after cgroup.kill: wait until the group is empty, so that rmdir works
  // and nothing of this run is still running when the caller moves on.
  auto deadline = Clock::now() + kKillTimeout;
  for (;;) {
    bool left = false;
    for (const auto& d : dirs_) {
      if (kill_listed(path_join(d.path, "cgroup.procs"))) left = true;
    }
    if (!left || Clock::now() >= deadline) break;
    std::this_thread::sleep_for(kPollInterval);
  }
}

std::optional<std::int64_t> RunCgroupImpl::memory_peak_bytes() const {
  const RunDir* d = memory_dir();
  if (d == nullptr) return std::nullopt;
  if (mode_ == CgroupManager::Mode::kV2) return read_int(path_join(d->path, "memory.peak"));
  return read_int(path_join(d->path, "memory.max_usage_in_bytes"));
}

bool RunCgroupImpl::hit_memory_limit() const {
  const RunDir* d = memory_dir();
  if (d == nullptr) return false;
  // Only OOM kills count: hitting the cap and reclaiming (v2 "max", v1
  // failcnt) happens to runs that finish normally too.
  if (mode_ == CgroupManager::Mode::kV2) {
    return positive(read_key(path_join(d->path, "memory.events"), "oom_kill"));
  }
  return positive(read_key(path_join(d->path, "memory.oom_control"), "oom_kill"));
}

std::optional<std::int64_t> RunCgroupImpl::cpu_usage_usec() const {
  for (const auto& d : dirs_) {
    if (mode_ == CgroupManager::Mode::kV2)
      return read_key(path_join(d.path, "cpu.stat"), "usage_usec");
    if (d.cpuacct) {
      auto nanoseconds = read_int(path_join(d.path, "cpuacct.usage"));
      if (!nanoseconds) return std::nullopt;
      return *nanoseconds / 1000;
    }
  }
  return std::nullopt;
}

void RunCgroupImpl::signal_all(int signal, pid_t except) {
  // Every hierarchy holds the same processes: one list is enough.
  if (!dirs_.empty())
    (void)kill_listed(path_join(dirs_.front().path, "cgroup.procs"), signal, except);
}

}  // namespace

void CgroupManager::require_writable_parents() {
  // Parents may exist (made by an earlier, privileged run) without being
  // ours to use: prove we can create a run group before claiming the layer.
  for (const auto& parent : parents_) {
    std::string probe = path_join(parent, "probe-" + std::to_string(getpid()));
    if (mkdir(probe.c_str(), 0755) != 0) {
      reason_ = "cannot create cgroups under " + parent + ": " + errno_text(errno);
      mode_ = Mode::kNone;
      parents_.clear();
      controllers_.clear();
      return;
    }
    rmdir(probe.c_str());
  }
}

CgroupManager CgroupManager::detect(const std::string& group_name, const std::string& cgroup_root) {
  CgroupManager m;
  if (!valid_name(group_name)) {
    m.reason_ = "invalid cgroup group name '" + group_name + "'";
    return m;
  }
  std::string v2_reason;
  std::string controllers_file = path_join(cgroup_root, "cgroup.controllers");
  if (auto controllers = read_control_file(controllers_file)) {
    if (!has_word(*controllers, "memory") || !has_word(*controllers, "pids")) {
      // E.g. a hybrid host's v2 mount with only hugetlb.
      v2_reason = "cgroup v2 at " + cgroup_root +
                  " has no memory/pids controllers (only: " + word_list(*controllers) + ")";
    } else if (fs_magic(cgroup_root) != kCgroup2SuperMagic) {
      v2_reason = cgroup_root + " has a cgroup.controllers file but is not a cgroup2 mount";
    } else {
      // The controllers live here, so v1 cannot have them: no fallback.
      std::string reason;
      bool cpu = false;
      if (auto parent = setup_v2(cgroup_root, group_name, cpu, reason)) {
        m.mode_ = Mode::kV2;
        m.parents_ = {*parent};
        m.controllers_ = {cpu ? "memory,pids,cpu" : "memory,pids"};
        m.require_writable_parents();
        m.cpu_accounted_ = m.available();
        m.cpu_reason_ = cpu ? "v2 cpu" : "v2 cpu.stat only (cpu not delegated: no weights)";
      } else {
        m.reason_ = "cgroup v2: " + reason;
      }
      return m;
    }
  } else {
    v2_reason = "no " + controllers_file;
  }

  std::string v1_reason;
  if (auto parents = setup_v1(cgroup_root, group_name, v1_reason)) {
    m.mode_ = Mode::kV1;
    for (const auto& p : *parents) {
      m.parents_.push_back(p.path);
      m.controllers_.push_back(p.memory && p.pids ? "memory,pids" : p.memory ? "memory" : "pids");
    }
    m.require_writable_parents();
    if (m.available()) m.add_v1_cpu(cgroup_root, group_name);
    return m;
  }
  m.reason_ = "no cgroup v2 memory/pids controllers (" + v2_reason +
              ") and no v1 memory+pids hierarchies (" + v1_reason + ")";
  return m;
}

void CgroupManager::add_v1_cpu(const std::string& root, const std::string& group) {
  // Optional: without them the memory/pids layer still stands, and CPU is
  // bounded per process by RLIMIT_CPU (docs/security.md 3.9).
  std::vector<std::string> found;
  std::vector<std::string> problems;
  for (const char* name : {"cpu", "cpuacct"}) {
    // Co-mounted as "cpu,cpuacct", both names are links to one hierarchy:
    // resolved, they give one parent (and one run dir).
    char resolved[PATH_MAX];
    if (realpath(path_join(root, name).c_str(), resolved) == nullptr) {
      problems.push_back(path_join(root, name) + ": " + errno_text(errno));
      continue;
    }
    const std::string hier = resolved;
    const std::string needed = std::string(name) == "cpu" ? "cpu.shares" : "cpuacct.usage";
    if (fs_magic(hier) != kCgroupSuperMagic) {
      problems.push_back(hier + " is not a cgroup v1 hierarchy");
      continue;
    }
    std::string base = hier;
    if (auto own = own_cgroup_path(name); own && is_dir(path_join(hier, *own))) {
      base = path_join(hier, *own);
    }
    const std::string parent = path_join(base, group);
    std::vector<std::string> created;
    std::string error;
    if (!ensure_dir(parent, created, error)) {
      problems.push_back(error);
      continue;
    }
    if (!exists(path_join(parent, needed))) {
      problems.push_back(parent + " has no " + needed);
      remove_created(created);
      continue;
    }
    std::string probe = path_join(parent, "probe-" + std::to_string(getpid()));
    if (mkdir(probe.c_str(), 0755) != 0) {
      problems.push_back("cannot create cgroups under " + parent + ": " + errno_text(errno));
      remove_created(created);
      continue;
    }
    rmdir(probe.c_str());
    found.push_back(name);
    // Co-mounted hierarchies ("cpu,cpuacct", or with memory) share one dir.
    auto same = std::find(parents_.begin(), parents_.end(), parent);
    if (same != parents_.end()) {
      controllers_[static_cast<std::size_t>(same - parents_.begin())] += "," + std::string(name);
    } else {
      parents_.push_back(parent);
      controllers_.push_back(name);
    }
  }
  const bool accounted = std::find(found.begin(), found.end(), "cpuacct") != found.end();
  cpu_accounted_ = accounted;
  if (!problems.empty()) {
    std::string text;
    for (const auto& problem : problems) text += (text.empty() ? "" : "; ") + problem;
    cpu_reason_ = text;
  } else {
    cpu_reason_ = "v1 cpu, cpuacct";
  }
  if (!accounted) cpu_reason_ = "no v1 cpuacct (" + cpu_reason_ + ")";
}

std::string CgroupManager::cpu_description() const {
  if (!cpu_accounted_) return "not available: " + (available() ? cpu_reason_ : reason_);
  return cpu_reason_;
}

std::string CgroupManager::description() const {
  switch (mode_) {
    case Mode::kV2:
      return "v2 (memory, pids)";
    case Mode::kV1:
      return "v1 (memory, pids)";
    case Mode::kNone:
      break;
  }
  return "not available: " + reason_;
}

std::unique_ptr<RunCgroup> CgroupManager::create_run(const std::string& run_name,
                                                     const CgroupLimits& limits,
                                                     std::string& error) const {
  if (!available()) {
    error = "cgroups " + description();
    return nullptr;
  }
  if (!valid_name(run_name)) {
    error = "invalid run cgroup name '" + run_name + "'";
    return nullptr;
  }
  auto run = std::make_unique<RunCgroupImpl>(mode_);
  for (size_t i = 0; i < parents_.size(); ++i) {
    const std::string& ctl = controllers_[i];
    RunDir dir{path_join(parents_[i], run_name), lists(ctl, "memory"), lists(ctl, "pids"),
               lists(ctl, "cpu"), lists(ctl, "cpuacct")};
    // On failure the destructor removes what was created so far.
    if (!run->add_dir(dir, error)) return nullptr;
  }
  if (!run->apply_limits(limits, error)) return nullptr;
  return run;
}

}  // namespace cjs::jail
