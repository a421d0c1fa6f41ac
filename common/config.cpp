// Configuration loading: YAML text -> Config, with reference compatibility.
//
// Scalars are read the way the reference's PyYAML (YAML 1.1) reads them where
// that matters for safety: booleans accept yes/no/on/off, and quoted values
// are strings, never numbers or booleans (PyYAML would hand Django a string,
// so `CODEJAIL_ENABLED: "false"` there means "enabled"; we refuse instead).
#include "common/config.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <utility>

namespace cjs {
namespace {

// Shipped in the binary; default_config() parses this very text so it cannot
// drift from what --print-default-config shows.
constexpr std::string_view kDefaultConfigYaml = R"yaml(# codejail-service configuration.
#
# This is the embedded default (printed by --print-default-config); point
# CODEJAIL_SERVICE_CFG at an edited copy. The reference service's YAML file
# works as-is: keys this service does not use (Django settings such as
# SECRET_KEY or LOGGING) are reported as warnings and ignored.

# Master switch for code execution. A file that omits it disables execution,
# as the reference does; enable it only once the health check passes.
CODEJAIL_ENABLED: true

CODE_JAIL:
  # Interpreter of the sandbox virtualenv (absolute path).
  python_bin: /opt/codejail-service/sandbox-venv/bin/python
  # Accepted for compatibility with the reference's files. Executions run as
  # per-slot uids instead (CODEJAIL_SERVICE.sandbox_uid_base).
  user: sandbox
  # Limits of every execution. 0 disables a limit, except FSIZE. These are
  # production values (edx-platform's, with more CPU); a file that omits
  # `limits` gets the codejail library's (CPU 1, REALTIME 1, VMEM 0, FSIZE 0,
  # NPROC 15), as the reference does.
  limits:
    # CPU seconds (soft limit, SIGXCPU: status -24; the hard limit is one
    # more). 3, not the reference's 1: touching memory costs CPU, and on a
    # slow VM code filling VMEM takes over a second, which must end in
    # MemoryError, not SIGXCPU. Wall time is bounded by REALTIME anyway.
    CPU: 3
    # Wall-clock seconds, fractions allowed; then everything the run started
    # is killed (status -9). 3: the answer comes before edxapp's 3.5 s read
    # timeout even for code that runs away.
    REALTIME: 3
    # Address space per process, bytes (MemoryError beyond it). 512 MiB, as
    # edx-platform sets: room for numpy, scipy, matplotlib, sympy and nltk
    # together (about 256 MiB) plus the course's data. The run's cgroup
    # (memory_limit_bytes) bounds all its processes together.
    VMEM: 536870912
    # Largest file the code may write, bytes; 0 = none at all. 1 MiB, as
    # edx-platform sets: tmp/ files, matplotlib's font cache and PNGs fit.
    FSIZE: 1048576
    # Processes + threads of the run (BlockingIOError beyond it).
    NPROC: 15
    PROXY: 0        # reference-only; accepted and ignored
  # Per-context limits, keyed by a request's limit_overrides_context (usually
  # a course id); only the limits listed change (PROXY cannot), e.g.
  #   "course-v1:edX+Demo+T1": {CPU: 3, REALTIME: 3}
  limit_overrides: {}

# Settings of this service that the reference lacks.
CODEJAIL_SERVICE:
  bind: "127.0.0.1:8550"      # HOST:PORT to listen on; IPv6 as [::1]:8550
  workers: 4                  # worker processes, 1-256
  max_requests: 1000          # requests before a worker is recycled; 0 = never
  max_requests_jitter: 50     # random extra per worker, so they don't recycle together
  stdout_cap_bytes: 1048576   # stdout kept per execution, plus the size of its input globals
                              # (so the globals can always come back); at least 1024
  stderr_cap_bytes: 1048576   # stderr kept per execution (at least 1024)
  max_body_bytes: 33554432    # largest request body accepted (at least 1024)
  queue_limit: 64             # requests waiting for a free worker; more get 503
  max_connections: 1024       # open client connections, 1-100000; more wait to be accepted
  max_connections_per_ip: 64  # open connections from one client address (1-100000);
                              # more are closed at once
  # Request body bytes held by all connections together (at least 1024; give
  # it at least max_body_bytes). A request whose body does not fit gets 503.
  max_buffered_body_bytes: 268435456
  header_timeout_seconds: 5   # a request's header must arrive within this; else closed
  # Longest wait for a worker, then 503 with Retry-After. 3: below edxapp's
  # 3.5 s read timeout, so the client still reads the answer.
  queue_timeout_seconds: 3
  sandbox_root: /tmp          # host directory holding the per-execution sandbox dirs
  tmp_size_bytes: 16777216    # capacity of an execution's writable tmp/ (at least 1024)
  # Memory of one execution's processes together (incl. tmp/), via its cgroup;
  # 0 = none. 1 GiB, above VMEM: one process meets VMEM first and gets
  # MemoryError (a cap equal to VMEM races it to a SIGKILL, since the
  # cgroup also counts page cache and kernel memory); the cgroup bounds
  # what all its processes add up to.
  memory_limit_bytes: 1073741824
  sandbox_uid_base: 61000     # executions run as uid/gid base+slot (service started as root)
  require_apparmor: false     # require the sandbox's AppArmor confinement
  log_code: false             # debugging only: log submitted code
  # Start each worker's next sandbox before its request comes: the confined
  # interpreter starts up while the worker is idle and waits for the code,
  # so a request no longer waits for Python to start (docs/performance.md).
  # Used when the request's python_path and limits are those of the worker's
  # previous one; otherwise the request starts cold, as with false.
  warm_start: true
)yaml";

constexpr std::int64_t kInt64Max = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t kIntMax = std::numeric_limits<int>::max();
// Seconds limits stay far from overflow when the jail adds one (CPU hard
// limit) or converts to nanoseconds (REALTIME).
constexpr std::int64_t kMaxSeconds = 1'000'000'000;
// Output caps and tmpfs sizes below this are mistakes (tmpfs even reads
// size=0 as "unlimited").
constexpr std::int64_t kMinCapBytes = 1024;

constexpr std::string_view kIntTag = "tag:yaml.org,2002:int";
constexpr std::string_view kFloatTag = "tag:yaml.org,2002:float";
constexpr std::string_view kBoolTag = "tag:yaml.org,2002:bool";

// A dotted-quad must be a real IPv4 address (999.1.1.1 is a typo, not a
// name); otherwise letters, digits, '-', '_' and '.' labels.
bool valid_host_name(std::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  if (host.find_first_not_of("0123456789.") == std::string_view::npos) {
    in_addr addr4{};
    return inet_pton(AF_INET, std::string(host).c_str(), &addr4) == 1;
  }
  if (host.front() == '.' || host.front() == '-' || host.find("..") != std::string_view::npos) {
    return false;
  }
  for (const char c : host) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '.' || c == '_';
    if (!ok) return false;
  }
  return true;
}

bool valid_port(std::string_view port) {
  int number = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), number);
  return !port.empty() && port.front() != '+' && port.front() != '-' && ec == std::errc() &&
         end == port.data() + port.size() && number >= 1 && number <= 65535;
}

// Config text ends up in logs: escape control bytes and keep it short.
std::string Printable(std::string_view s) {
  constexpr std::size_t kMaxShown = 80;
  std::string out;
  for (std::size_t i = 0; i < s.size() && i < kMaxShown; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7f) {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    } else {
      out += static_cast<char>(c);
    }
  }
  if (s.size() > kMaxShown) out += "...";
  return out;
}

std::string Join(std::string_view path, std::string_view key) {
  std::string out(path);
  if (!out.empty()) out += '.';
  out += Printable(key);
  return out;
}

// Plain (unquoted, untagged) scalars are the only ones YAML resolves to
// numbers or booleans; explicit core tags mean the same.
bool IsPlainOr(const YAML::Node& node, std::string_view core_tag) {
  return node.IsScalar() && (node.Tag() == "?" || node.Tag() == core_tag);
}

// What a node is, for "got ..." in messages.
std::string Describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
      return "null";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a map";
    case YAML::NodeType::Scalar:
      if (node.Tag() == "!") return "the quoted string '" + Printable(node.Scalar()) + "'";
      if (node.Tag() != "?") {
        return "'" + Printable(node.Scalar()) + "' tagged " + Printable(node.Tag());
      }
      return "'" + Printable(node.Scalar()) + "'";
    default:
      return "nothing";
  }
}

bool IsNullOrEmptyMap(const YAML::Node& node) {
  return node.IsNull() || (node.IsMap() && node.size() == 0);
}

class Parser {
 public:
  Parser(std::string_view source, std::vector<std::string>& warnings)
      : source_(source), warnings_(warnings) {}

  Config Parse(const YAML::Node& root) {
    Config config;
    config.source = source_;
    bool enabled_set = false;
    if (!root.IsNull() && !root.IsMap()) {
      Fail("", root, "expected a map of settings at the top level");
    }
    for (const auto& [key, value] : Entries(root, "")) {
      if (key == "CODEJAIL_ENABLED") {
        config.enabled = Bool(value, key);
        enabled_set = true;
      } else if (key == "CODE_JAIL") {
        ParseCodeJail(value, key, config);
      } else if (key == "CODEJAIL_SERVICE") {
        ParseService(value, key, config);
      } else {
        WarnUnknown("", key);
      }
    }
    if (!enabled_set) {
      config.enabled = false;
      warnings_.push_back(
          "CODEJAIL_ENABLED is not set; code execution is disabled (reference default)");
    }
    return config;
  }

 private:
  using EntryList = std::vector<std::pair<std::string, YAML::Node>>;

  void ParseCodeJail(const YAML::Node& node, const std::string& path, Config& config) {
    for (const auto& [key, value] : Entries(node, path)) {
      const std::string sub = Join(path, key);
      if (key == "python_bin") {
        config.python_bin = AbsolutePath(value, sub);
      } else if (key == "user") {
        config.sandbox_user = String(value, sub);
      } else if (key == "limits") {
        ParseLimits(value, sub, config.limits);
      } else if (key == "limit_overrides") {
        ParseOverrides(value, sub, config.limit_overrides);
      } else {
        WarnUnknown(path, key);
      }
    }
  }

  void ParseLimits(const YAML::Node& node, const std::string& path, Limits& limits) {
    for (const auto& [key, value] : Entries(node, path)) {
      const std::string sub = Join(path, key);
      if (key == "CPU") {
        limits.cpu_seconds = Int(value, sub, 0, kMaxSeconds);
      } else if (key == "REALTIME") {
        limits.realtime_seconds = Number(value, sub, kMaxSeconds);
      } else if (key == "VMEM") {
        limits.vmem_bytes = Int(value, sub, 0, kInt64Max);
      } else if (key == "FSIZE") {
        limits.fsize_bytes = Int(value, sub, 0, kInt64Max);
      } else if (key == "NPROC") {
        limits.nproc = Int(value, sub, 0, kInt64Max);
      } else if (key == "PROXY") {
        limits.proxy = Int(value, sub, 0, 1);
        if (limits.proxy == 1) warnings_.push_back(sub + " is not supported and is ignored");
      } else {
        FailUnknownLimit(sub, key, value);
      }
    }
  }

  void ParseOverrides(const YAML::Node& node, const std::string& path, LimitOverrides& overrides) {
    overrides.clear();
    for (const auto& [context, value] : Entries(node, path)) {
      const std::string ctx_path = Join(path, context);
      LimitOverride& entry = overrides[context];
      if (IsNullOrEmptyMap(value)) continue;  // a context listed with no overrides
      if (!value.IsMap()) Fail(ctx_path, value, "expected a map of limits");
      for (const auto& [key, limit] : Entries(value, ctx_path)) {
        const std::string sub = Join(ctx_path, key);
        if (key == "CPU") {
          entry.cpu_seconds = Int(limit, sub, 0, kMaxSeconds);
        } else if (key == "REALTIME") {
          entry.realtime_seconds = Number(limit, sub, kMaxSeconds);
        } else if (key == "VMEM") {
          entry.vmem_bytes = Int(limit, sub, 0, kInt64Max);
        } else if (key == "FSIZE") {
          entry.fsize_bytes = Int(limit, sub, 0, kInt64Max);
        } else if (key == "NPROC") {
          entry.nproc = Int(limit, sub, 0, kInt64Max);
        } else if (key == "PROXY") {
          // The reference rejects it per context; a warning keeps its files loadable.
          warnings_.push_back(sub + " cannot be overridden per context and is ignored");
        } else {
          FailUnknownLimit(sub, key, limit);
        }
      }
    }
  }

  void ParseService(const YAML::Node& node, const std::string& path, Config& config) {
    for (const auto& [key, value] : Entries(node, path)) {
      const std::string sub = Join(path, key);
      if (key == "bind") {
        config.bind = Bind(value, sub);
      } else if (key == "workers") {
        config.workers = static_cast<int>(Int(value, sub, 1, 256));
      } else if (key == "max_requests") {
        config.max_requests = static_cast<int>(Int(value, sub, 0, kIntMax));
      } else if (key == "max_requests_jitter") {
        config.max_requests_jitter = static_cast<int>(Int(value, sub, 0, kIntMax));
      } else if (key == "stdout_cap_bytes") {
        config.stdout_cap_bytes = Size(value, sub);
      } else if (key == "stderr_cap_bytes") {
        config.stderr_cap_bytes = Size(value, sub);
      } else if (key == "max_body_bytes") {
        config.max_body_bytes = Size(value, sub);
      } else if (key == "sandbox_root") {
        config.sandbox_root = AbsolutePath(value, sub);
      } else if (key == "tmp_size_bytes") {
        config.tmp_size_bytes = Size(value, sub);
      } else if (key == "queue_limit") {
        config.queue_limit = static_cast<int>(Int(value, sub, 0, 100000));
      } else if (key == "max_connections") {
        config.max_connections = static_cast<int>(Int(value, sub, 1, 100000));
      } else if (key == "max_connections_per_ip") {
        config.max_connections_per_ip = static_cast<int>(Int(value, sub, 1, 100000));
      } else if (key == "max_buffered_body_bytes") {
        config.max_buffered_body_bytes = Size(value, sub);
      } else if (key == "header_timeout_seconds") {
        config.header_timeout_seconds = Number(value, sub, 3600);
        if (config.header_timeout_seconds <= 0) Fail(sub, value, "expected a positive number");
      } else if (key == "queue_timeout_seconds") {
        config.queue_timeout_seconds = Number(value, sub, 3600);
        if (config.queue_timeout_seconds <= 0) Fail(sub, value, "expected a positive number");
      } else if (key == "memory_limit_bytes") {
        config.memory_limit_bytes = Int(value, sub, 0, kInt64Max);
      } else if (key == "sandbox_uid_base") {
        // Slots use base .. base+255; stay clear of system and overflow ids.
        config.sandbox_uid_base = static_cast<std::uint32_t>(Int(value, sub, 1000, 2147483000));
      } else if (key == "require_apparmor") {
        config.require_apparmor = Bool(value, sub);
      } else if (key == "log_code") {
        config.log_code = Bool(value, sub);
      } else if (key == "warm_start") {
        config.warm_start = Bool(value, sub);
      } else {
        WarnUnknown(path, key);
      }
    }
  }

  // The entries of a map (null: none), as PyYAML would build the dict:
  // duplicate keys keep the last value (with a warning) and `<<` merge keys
  // contribute the keys not set explicitly.
  EntryList Entries(const YAML::Node& node, const std::string& path, int merge_depth = 0) {
    // An alias can make a map merge itself; recursing on it would never end.
    constexpr int kMaxMergeDepth = 16;
    if (merge_depth > kMaxMergeDepth) {
      throw ConfigError(Join(path, "<<") + ": merge keys nested too deeply (recursive alias?)" +
                        Where(node));
    }
    if (node.IsNull()) return {};
    if (!node.IsMap()) Fail(path, node, "expected a map");
    EntryList entries;
    std::map<std::string, std::size_t> index;
    std::vector<YAML::Node> merges;
    for (const auto& kv : node) {
      const YAML::Node& key_node = kv.first;
      if (!key_node.IsScalar() && !key_node.IsNull()) {
        Fail(path, key_node, "expected string keys in the map");
      }
      std::string key = key_node.IsNull() ? "null" : key_node.Scalar();
      if (key == "<<" && key_node.IsScalar() && key_node.Tag() == "?") {
        merges.push_back(kv.second);
        continue;
      }
      auto [it, inserted] = index.emplace(key, entries.size());
      if (inserted) {
        entries.emplace_back(std::move(key), kv.second);
      } else {
        warnings_.push_back("duplicate key '" + Join(path, key) + "': the last value is used");
        entries[it->second].second = kv.second;
      }
    }
    for (const YAML::Node& merge : merges) {
      // `<<: *a` or `<<: [*a, *b]`; earlier maps win over later ones.
      std::vector<YAML::Node> sources;
      if (merge.IsMap()) {
        sources.push_back(merge);
      } else if (merge.IsSequence()) {
        for (const auto& item : merge) sources.push_back(item);
      } else {
        Fail(Join(path, "<<"), merge, "expected a map or a list of maps");
      }
      for (const YAML::Node& source : sources) {
        if (!source.IsMap()) Fail(Join(path, "<<"), merge, "expected a map or a list of maps");
        for (auto& [key, value] : Entries(source, path, merge_depth + 1)) {
          if (index.emplace(key, entries.size()).second) {
            entries.emplace_back(std::move(key), std::move(value));
          }
        }
      }
    }
    return entries;
  }

  void WarnUnknown(const std::string& path, const std::string& key) {
    warnings_.push_back("unknown key '" + Join(path, key) + "' ignored");
  }

  // A misspelt limit would silently leave a run unlimited: refuse it.
  [[noreturn]] void FailUnknownLimit(const std::string& path, const std::string& key,
                                     const YAML::Node& value) {
    std::string hint;
    for (std::string_view known : {"CPU", "REALTIME", "VMEM", "FSIZE", "NPROC", "PROXY"}) {
      if (key.size() == known.size() &&
          std::equal(key.begin(), key.end(), known.begin(), [](char a, char b) {
            return std::toupper(static_cast<unsigned char>(a)) == b;
          })) {
        hint = " (limit names are upper-case: '" + std::string(known) + "')";
      }
    }
    throw ConfigError(path + ": unknown limit name; expected one of CPU, REALTIME, VMEM, " +
                      "FSIZE, NPROC, PROXY" + hint + Where(value));
  }

  [[noreturn]] void Fail(const std::string& path, const YAML::Node& node,
                         std::string_view expected) {
    // The top level has no key path; the source names it instead.
    std::string msg = path.empty() ? source_ : path;
    msg += ": ";
    msg += expected;
    msg += ", got ";
    msg += Describe(node);
    msg += Where(node, /*with_source=*/!path.empty());
    throw ConfigError(msg);
  }

  std::string Where(const YAML::Node& node, bool with_source = true) const {
    const YAML::Mark mark = node.Mark();
    const bool has_line = !mark.is_null() && mark.line >= 0;
    if (!with_source) return has_line ? " (line " + std::to_string(mark.line + 1) + ")" : "";
    if (!has_line) return " (in " + source_ + ")";
    return " (in " + source_ + ", line " + std::to_string(mark.line + 1) + ")";
  }

  // PyYAML's YAML 1.1 booleans.
  bool Bool(const YAML::Node& node, const std::string& path) {
    static const std::set<std::string, std::less<>> kTrue = {"true", "True", "TRUE", "yes", "Yes",
                                                             "YES",  "on",   "On",   "ON"};
    static const std::set<std::string, std::less<>> kFalse = {"false", "False", "FALSE", "no", "No",
                                                              "NO",    "off",   "Off",   "OFF"};
    if (IsPlainOr(node, kBoolTag)) {
      if (kTrue.contains(node.Scalar())) return true;
      if (kFalse.contains(node.Scalar())) return false;
    }
    Fail(path, node, "expected true or false");
  }

  // A decimal integer in [min, max]. YAML 1.1 extras that read differently
  // across parsers (leading-zero octal, hex, 1:30 sexagesimal) are refused.
  std::int64_t Int(const YAML::Node& node, const std::string& path, std::int64_t min,
                   std::int64_t max) {
    std::string expected;
    if (min == 0) {
      expected = "expected a non-negative integer";
    } else if (max == kInt64Max) {
      expected = "expected an integer of at least " + std::to_string(min);
    } else {
      expected = "expected an integer from " + std::to_string(min) + " to " + std::to_string(max);
    }
    if (!IsPlainOr(node, kIntTag)) Fail(path, node, expected);
    std::string_view text = node.Scalar();
    if (!text.empty() && text.front() == '+') text.remove_prefix(1);
    // Underscores are YAML 1.1 digit separators (1_000_000).
    std::string digits;
    for (std::size_t i = 0; i < text.size(); ++i) {
      const char c = text[i];
      if (c >= '0' && c <= '9') {
        digits += c;
      } else if (c != '_' || i == 0) {
        Fail(path, node, expected);
      }
    }
    if (digits.empty()) Fail(path, node, expected);
    if (digits.size() > 1 && digits.front() == '0') {
      Fail(path, node, expected + " without leading zeros (YAML 1.1 reads those as octal)");
    }
    std::int64_t value = 0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (ec != std::errc() || end != digits.data() + digits.size() || value > max) {
      if (min == 0) expected += " of at most " + std::to_string(max);
      Fail(path, node, expected);
    }
    if (value < min) Fail(path, node, expected);
    return value;
  }

  std::size_t Size(const YAML::Node& node, const std::string& path) {
    return static_cast<std::size_t>(Int(node, path, kMinCapBytes, kInt64Max));
  }

  // A non-negative decimal number, integer or fractional (1, 0.5, 1.5e1).
  double Number(const YAML::Node& node, const std::string& path, std::int64_t max) {
    const std::string expected = "expected a non-negative number";
    if (!IsPlainOr(node, kFloatTag) && !IsPlainOr(node, kIntTag)) Fail(path, node, expected);
    std::string_view text = node.Scalar();
    if (!text.empty() && text.front() == '+') text.remove_prefix(1);
    std::string cleaned;
    for (std::size_t i = 0; i < text.size(); ++i) {
      const char c = text[i];
      const bool sign_after_e =
          (c == '+' || c == '-') && i > 0 && (text[i - 1] == 'e' || text[i - 1] == 'E');
      if ((c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E' || sign_after_e) {
        cleaned += c;
      } else if (c != '_' || i == 0) {
        Fail(path, node, expected);  // also: a leading '-', ".inf", ".nan", hex
      }
    }
    double value = 0;
    const auto [end, ec] = std::from_chars(cleaned.data(), cleaned.data() + cleaned.size(), value);
    if (cleaned.empty() || ec != std::errc() || end != cleaned.data() + cleaned.size() ||
        !std::isfinite(value) || value < 0) {
      Fail(path, node, expected);
    }
    if (value > static_cast<double>(max)) {
      Fail(path, node, expected + " of at most " + std::to_string(max));
    }
    return value;
  }

  std::string String(const YAML::Node& node, const std::string& path) {
    if (!node.IsScalar() || node.Scalar().empty()) Fail(path, node, "expected a non-empty string");
    // A NUL would silently truncate the value at the C API boundary.
    if (node.Scalar().find('\0') != std::string::npos) {
      Fail(path, node, "expected a string without NUL characters");
    }
    return node.Scalar();
  }

  std::string AbsolutePath(const YAML::Node& node, const std::string& path) {
    std::string value = String(node, path);
    if (value.front() != '/') Fail(path, node, "expected an absolute path");
    return value;
  }

  std::string Bind(const YAML::Node& node, const std::string& path) {
    std::string value = String(node, path);
    if (!is_valid_bind(value)) Fail(path, node, kBindExpected);
    return value;
  }

  std::string source_;
  std::vector<std::string>& warnings_;
};

}  // namespace

std::string_view default_config_yaml() { return kDefaultConfigYaml; }

Config parse_config(std::string_view yaml_text, std::string_view source,
                    std::vector<std::string>& warnings) {
  std::vector<YAML::Node> documents;
  try {
    documents = YAML::LoadAll(std::string(yaml_text));
  } catch (const YAML::ParserException& e) {
    std::string msg(source);
    if (!e.mark.is_null()) {
      msg += ":" + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1);
    }
    throw ConfigError(msg + ": YAML syntax error: " + e.msg);
  } catch (const YAML::Exception& e) {
    throw ConfigError(std::string(source) + ": invalid YAML: " + e.what());
  }
  // PyYAML's safe_load refuses several documents too; silently taking the
  // first would hide settings.
  if (documents.size() > 1) {
    throw ConfigError(std::string(source) + ": expected a single YAML document, found " +
                      std::to_string(documents.size()));
  }
  const YAML::Node root = documents.empty() ? YAML::Node() : documents.front();
  try {
    return Parser(source, warnings).Parse(root);
  } catch (const YAML::Exception& e) {
    // Not expected (we only read scalars we checked), but keep the contract.
    throw ConfigError(std::string(source) + ": invalid configuration: " + e.what());
  }
}

bool is_valid_bind(std::string_view value) {
  if (value.empty()) return false;
  if (value.front() == '[') {
    const std::size_t close = value.find(']');
    if (close == std::string_view::npos || close + 1 >= value.size() || value[close + 1] != ':') {
      return false;
    }
    in6_addr addr6{};
    return inet_pton(AF_INET6, std::string(value.substr(1, close - 1)).c_str(), &addr6) == 1 &&
           valid_port(value.substr(close + 2));
  }
  const std::size_t colon = value.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  return valid_host_name(value.substr(0, colon)) && valid_port(value.substr(colon + 1));
}

std::string read_config_fd(int fd, std::string_view source) {
  const auto fail = [source](const std::string& why) {
    throw ConfigError("cannot read config file '" + std::string(source) + "': " + why);
  };
  std::string text;
  char buffer[8192];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail(std::strerror(errno));
    if (n == 0) return text;
    text.append(buffer, static_cast<std::size_t>(n));
    if (text.size() > kMaxConfigFileBytes) {
      fail("larger than " + std::to_string(kMaxConfigFileBytes) + " bytes");
    }
  }
}

std::string read_config_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    throw ConfigError("cannot read config file '" + path + "': " + std::strerror(errno));
  }
  try {
    std::string text = read_config_fd(fd, path);
    ::close(fd);
    return text;
  } catch (...) {
    ::close(fd);
    throw;
  }
}

Config load_config_file(const std::string& path, std::vector<std::string>& warnings) {
  return parse_config(read_config_file(path), path, warnings);
}

Config default_config() {
  std::vector<std::string> warnings;
  Config config = parse_config(kDefaultConfigYaml, "<embedded default>", warnings);
  // The embedded text is ours; a warning here is a bug the unit tests catch.
  if (!warnings.empty()) {
    throw std::logic_error("embedded default configuration: " + warnings.front());
  }
  return config;
}

}  // namespace cjs
