// Shared helpers of the integration tests: real CPython through the real
// execution path (check_payload + Executor::execute), as the service runs it.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/config.h"
#include "common/json_value.h"
#include "jail/executor.h"
#include "test/support/test_support.h"

namespace cjs::itest {

// Shared with the attack suite (test/support/test_support.h).
using test::emsg_of;
using test::kill_all;
using test::list_dir;
using test::make_stored_zip;
using test::normalize_sandbox_dir;
using test::parse_body;
using test::path_exists;
using test::processes_named;
using test::random_token;
using test::ScratchDir;

// Time limits for runs that do not test time: far above what any test here
// needs even on a machine ten times slower than a 2-core VM where Python
// starts in 40 ms, so that only the limit under test ends a run
// (test/README.md, "Tests that depend on the host").
inline constexpr std::int64_t kAmpleCpuSeconds = 10;
inline constexpr double kAmpleRealtimeSeconds = 20;

// The embedded default configuration (the sandbox interpreter
// /opt/codejail-service/sandbox-venv/bin/python, user 'sandbox') with ample
// CPU and REALTIME. Tests of a time limit set it themselves.
Config test_config();

// test_config() with `tweak` applied, e.g.
//   config_with([](Config& c) { c.limits.realtime_seconds = 3; })
Config config_with(const std::function<void(Config&)>& tweak);

// test_config() with only the default limits changed.
Config config_with_limits(const std::function<void(Limits&)>& tweak);

// Optional parts of one request.
struct RunArgs {
  std::vector<std::string> python_path;                // payload "python_path"
  std::vector<UploadedFile> files;                     // uploaded files
  std::optional<std::string> limit_overrides_context;  // payload key of the same name
  std::optional<Config> config;                        // default: test_config()
  int slot = 0;                                        // default (0): test_slot()
};

// A finished execution and how long execute() took.
struct Execution {
  ExecutionSummary report;
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

// The body's globals_dict (which must be present and an object).
json::Object globals_of(const std::string& body);
// One global of the body rendered back in the API spelling (exact numbers),
// or nothing when absent: global_json(body, "x") == "17".
std::optional<std::string> global_json(const std::string& body, std::string_view key);
// The keys of globals_dict, in body order.
std::vector<std::string> global_keys(const std::string& body);

// The worker slot this test process runs as (uid = sandbox_uid_base + slot):
// the lowest of 1..99 that no other test process holds (a lock held until
// this process exits), so that integration tests ctest runs at the same time
// never share a uid (RLIMIT_NPROC and the "nothing left of the uid" checks
// count per uid). The attack suite uses slots 100 and up.
int test_slot();

// Another free slot, held until this process exits: for runs a test starts
// next to its own (in forked processes), each with a uid of its own.
int claim_extra_slot();

// The uid runs get (tests run as root): sandbox_uid_base + test_slot().
uid_t sandbox_uid();

// The longest a run ended by a time limit of `limit_seconds` may take in all:
// the limit plus the setup and cleanup a trivial run costs here and now
// (measured, with a wide margin).
double prompt_end_bound(double limit_seconds);

// Pids of live processes whose real uid is `uid` and that descend from this
// process (what our runs left behind; other test processes' runs are not
// counted, so concurrent suites do not interfere).
std::vector<pid_t> descendants_of_uid(uid_t uid);

}  // namespace cjs::itest
