// Shared helpers of the integration tests: real CPython through the real
// execution path (check_payload + Executor::execute), as the service runs it.
#pragma once

#include <sys/types.h>

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/config.h"
#include "common/json_value.h"
#include "jail/executor.h"

namespace cjs::itest {

// The embedded default configuration (the sandbox interpreter
// /opt/codejail-service/sandbox-venv/bin/python, user 'sandbox'), unchanged.
Config test_config();

// test_config() with `tweak` applied, e.g.
//   config_with([](Config& c) { c.limits.realtime_seconds = 3; })
Config config_with(const std::function<void(Config&)>& tweak);

// test_config() with only the default limits changed.
Config config_with_limits(const std::function<void(Limits&)>& tweak);

// Optional parts of one request.
struct RunArgs {
  std::vector<std::string> python_path;                 // payload "python_path"
  std::vector<jail::UploadedFile> files;                // uploaded files
  std::optional<std::string> limit_overrides_context;   // payload key of the same name
  std::optional<Config> config;                         // default: test_config()
};

// A finished execution and how long execute() took.
struct Execution {
  jail::ExecutionReport report;
  double seconds = 0;  // steady_clock around Executor::execute
  const std::string& body() const { return report.body; }
};

// The payload JSON text for `code` (any bytes, rendered as a JSON string)
// and `globals_json` (JSON text of an object, inserted verbatim).
std::string payload_json(std::string_view code, std::string_view globals_json,
                         const RunArgs& args = {});

// check_payload (which must accept the payload) + Executor::execute.
Execution execute(std::string_view code, std::string_view globals_json = "{}",
                  const RunArgs& args = {});

// The 200 body only.
std::string run(std::string_view code, std::string_view globals_json = "{}",
                const RunArgs& args = {});

// The body, parsed with cjs::json::parse (which must succeed on an object).
json::Object parse_body(const std::string& body);
// The body's globals_dict (which must be present and an object).
json::Object globals_of(const std::string& body);
// The body's emsg, or nothing when absent.
std::optional<std::string> emsg_of(const std::string& body);
// One global of the body rendered back in the API spelling (exact numbers),
// or nothing when absent: global_json(body, "x") == "17".
std::optional<std::string> global_json(const std::string& body, std::string_view key);
// The keys of globals_dict, in body order.
std::vector<std::string> global_keys(const std::string& body);

// Replaces every "/tmp/codejail-" + 8 characters of [a-z0-9_] with
// "/tmp/codejail-XXXXXXXX" (as in api.md 3.2).
std::string normalize_sandbox_dir(std::string text);

// The uid of the configured sandbox user (tests run as root).
uid_t sandbox_uid();

// A ZIP archive (stored, no compression) of (name, content) entries, as
// zipimport reads it.
std::string make_stored_zip(const std::vector<std::pair<std::string, std::string>>& entries);

// A scratch directory, removed (rm -rf) on destruction. `mode` is applied
// exactly (e.g. 0755 so that the sandbox user can traverse it).
struct ScratchDir {
  std::string path;
  explicit ScratchDir(mode_t mode = 0700);
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  std::vector<std::string> entries() const;  // names inside, sorted
  // Entries a run may leave: everything except the executor's shared mount
  // staging dir (.codejail-root), which persists by design.
  std::vector<std::string> leftovers() const;
};

// Names in `dir` starting with `prefix`, sorted.
std::vector<std::string> list_dir(const std::string& dir, std::string_view prefix = "");

// Pids of live processes whose /proc/PID/comm equals `comm`.
std::vector<pid_t> processes_named(std::string_view comm);
// Pids of live processes whose real uid is `uid` and that descend from this
// process (what our runs left behind; other test processes' runs are not
// counted, so concurrent suites do not interfere).
std::vector<pid_t> descendants_of_uid(uid_t uid);

// A short random [a-z0-9] string, for markers.
std::string random_token(std::size_t length);

}  // namespace cjs::itest
