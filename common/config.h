// Service configuration: the reference's YAML keys plus our own section.
//
//   CODEJAIL_ENABLED: true
//   CODE_JAIL:
//     python_bin: /opt/codejail-service/sandbox-venv/bin/python
//     user: sandbox
//     limits: {CPU: 3, REALTIME: 3, VMEM: 536870912, FSIZE: 1048576, NPROC: 15, PROXY: 0}
//     limit_overrides: {"course-v1:edX+Demo+T1": {CPU: 3, REALTIME: 3}}
//   CODEJAIL_SERVICE:          # ours; everything the reference lacks
//     workers: 4
//     ...
//
// Unknown keys produce warnings (operators' reference files carry Django
// settings we do not use); malformed values throw ConfigError naming the key.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "common/limits.h"

namespace cjs {

struct ConfigError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Config {
  // --- reference keys ---
  bool enabled = true;  // CODEJAIL_ENABLED (absent from a file: false, as in the reference)
  std::string python_bin = "/opt/codejail-service/sandbox-venv/bin/python";  // CODE_JAIL.python_bin
  std::string sandbox_user = "sandbox";  // CODE_JAIL.user (accepted; runs use sandbox_uid_base)
  Limits limits;                         // CODE_JAIL.limits
  LimitOverrides limit_overrides;        // CODE_JAIL.limit_overrides

  // --- CODEJAIL_SERVICE section (ours) ---
  std::string bind = "127.0.0.1:8550";     // bind
  int workers = 4;                         // workers
  int max_requests = 1000;                 // max_requests (0 = never recycle)
  int max_requests_jitter = 50;            // max_requests_jitter
  std::size_t stdout_cap_bytes = 1 << 20;  // stdout_cap_bytes
  std::size_t stderr_cap_bytes = 1 << 20;  // stderr_cap_bytes
  std::size_t max_body_bytes = 32u << 20;  // max_body_bytes
  int queue_limit = 64;                    // queue_limit: requests waiting for a worker
  int max_connections = 1024;              // max_connections: open client connections
  int max_connections_per_ip = 64;         // max_connections_per_ip: of one client address
  std::size_t max_buffered_body_bytes = 256u << 20;  // max_buffered_body_bytes: all bodies at once
  double header_timeout_seconds = 5;                 // header_timeout_seconds: whole header
  double queue_timeout_seconds = 3;                  // queue_timeout_seconds: then 503
  std::string sandbox_root = "/tmp";                 // sandbox_root: host dir for sandbox dirs
  std::size_t tmp_size_bytes = 16u << 20;            // tmp_size_bytes: cap of a run's tmp/
  std::int64_t memory_limit_bytes = 1 << 30;  // memory_limit_bytes: cgroup cap per run (0: none)
  std::uint32_t sandbox_uid_base = 61000;     // sandbox_uid_base: run uid/gid = base + slot
  bool require_apparmor = false;              // require_apparmor
  bool log_code = false;                      // log_code: debug switch, logs submitted code
  bool warm_start = true;  // warm_start: each worker starts its next sandbox ahead of its request

  // Where the config came from, for logs ("<embedded default>" or a path).
  std::string source = "<embedded default>";
};

// The embedded default configuration's YAML text (shipped in the binary and
// printed by --print-default-config).
std::string_view default_config_yaml();

// Parses YAML text. `source` names the text in messages. Warnings (unknown
// keys, ignored settings) are appended to `warnings`.
Config parse_config(std::string_view yaml_text, std::string_view source,
                    std::vector<std::string>& warnings);

// Config files are small; the cap only stops e.g. /dev/zero from eating memory.
inline constexpr std::size_t kMaxConfigFileBytes = 16u << 20;

// The one way configuration text is read: at most kMaxConfigFileBytes, else
// ConfigError ("cannot read config file '<source>': ..."). From a path, or
// from an open descriptor (the supervisor's snapshot) at its current offset.
std::string read_config_file(const std::string& path);
std::string read_config_fd(int fd, std::string_view source);

// read_config_file + parse_config; throws ConfigError if unreadable or invalid.
Config load_config_file(const std::string& path, std::vector<std::string>& warnings);

// A `bind` value: HOST:PORT, HOST an IPv4 address, [IPv6 address] or host
// name, PORT 1-65535. What parse_config checks, for the --bind flag.
inline constexpr std::string_view kBindExpected =
    "expected HOST:PORT (an IPv4 address, [IPv6 address] or host name, and a port from 1 to "
    "65535)";
bool is_valid_bind(std::string_view value);

// The embedded default, parsed.
Config default_config();

}  // namespace cjs
