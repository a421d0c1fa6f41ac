// Shared helpers of the attack suite (sandbox.md, "Attack catalogue"): hostile
// code through the real execution path (check_payload + Executor::execute),
// linked against cjs_jail_sabotageable so that the same binary can prove its
// [deny] tests fail once confinement is switched off (test/attacks/sabotage_check).
//
// Conventions of the suite:
//  - one TEST_CASE per catalogue item (or a few), named "NN: ..." without
//    commas or brackets (sabotage_check runs each [deny] case by name);
//  - tags: [attack] plus exactly one of
//      [deny]      passes only because a confinement layer holds: it must FAIL
//                  under CJS_TEST_SABOTAGE_CONFINEMENT=1 (the reference's
//                  baseline without AppArmor must not satisfy it);
//      [limits]    rlimit and output-cap resource limits, which the baseline
//                  keeps too (the cgroup memory cap, which it lacks, is [deny]);
//      [hygiene]   cleanup, leaks, environment: the baseline satisfies these too;
//      [protocol]  protocol edge cases (items 41-45), except where an edge
//                  case is stopped by a confinement layer (45's extraction
//                  into tmp/ is stopped by the tmpfs: [deny]);
//  - every case ends by checking that the NEXT run on the same executor is
//    clean (expect_clean_next_run);
//  - every case runs as its own worker slot (uid 61000 + slot), listed in
//    attack_fixture.cpp, so that test processes ctest runs concurrently never
//    share a uid (RLIMIT_NPROC and kill(-1) are per uid);
//  - nothing runs outside a network namespace that has only loopback
//    (require_isolated_network), because unconfined code really tries DNS/HTTP.
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
#include "test/support/warm_start.h"

namespace cjs::attack {

// Shared with the integration suite (test/support/test_support.h).
using test::emsg_of;
using test::kill_all;
using test::list_dir;
using test::make_stored_zip;
using test::normalize_sandbox_dir;
using test::parse_body;
using test::path_exists;
using test::processes_named;
using test::random_token;
using test::read_file;
using test::ScratchDir;

// ---------------------------------------------------------------- slots ---

// Worker slots (uid = sandbox_uid_base + slot). One per test case; see the
// table in attack_fixture.cpp. Every slot used by this suite is >= 100, so
// that the integration suites (slot 0) never share a uid with an attack.
int slot_for(int item, int variant = 0);

// Items 46 and later: slots 100-255 are all taken, so they run in a uid
// block of their own, 61256 + slot (no other suite uses 61256-61511), with
// late_item_config() and late_slot(item, variant) = 3 * (item - 46) + variant.
inline constexpr uid_t kLateItemUidBase = 61256;
// The warm pass (CJS_TEST_WARM_START=1), which ctest runs next to the cold
// one, shifts every uid of this suite by this much (bases 66000 and 66256).
inline constexpr uid_t kWarmPassUidShift = 5000;
int late_slot(int item, int variant = 0);

// uid (== gid) a slot's runs get.
uid_t slot_uid(int slot);

// ---------------------------------------------------------------- config ---

// Time limits for runs that do not test time: far above what any attack
// here needs even on a machine ten times slower than a 2-core VM where
// Python starts in 40 ms, so that only the limit under test ends a run
// (test/README.md, "Tests that depend on the host").
inline constexpr std::int64_t kAmpleCpuSeconds = 10;
inline constexpr double kAmpleRealtimeSeconds = 20;

// The embedded default configuration with production-like resource limits
// (VMEM 512 MiB, FSIZE 1 MiB, NPROC 15; api.md 5) and ample time limits.
// Tests of CPU or REALTIME set those themselves.
Config attack_config();
Config attack_config(const std::function<void(Config&)>& tweak);
// attack_config() with sandbox_uid_base = kLateItemUidBase (items 46 and later).
Config late_item_config();

// Whether this process runs sabotaged (CJS_TEST_SABOTAGE_CONFINEMENT=1).
bool sabotaged();

// FAILs the current test unless this process is in a network namespace
// whose only interface is loopback (sandbox.md, network safety).
void require_isolated_network();

// An executor for one slot, after require_isolated_network().
jail::Executor make_executor(const Config& config, int slot);

// ------------------------------------------------------------------ runs ---

struct RunArgs {
  std::vector<std::string> python_path;  // payload "python_path"
  std::vector<UploadedFile> files;       // uploaded files
  std::optional<std::string> limit_overrides_context;
};

struct Outcome {
  ExecutionSummary report;
  double seconds = 0;  // steady clock around Executor::execute
  const std::string& body() const { return report.body; }
};

// The payload JSON for `code` and `globals_json` (JSON text of an object).
std::string payload_json(std::string_view code, std::string_view globals_json,
                         const RunArgs& args = {});

// check_payload (which must accept) + Executor::execute.
Outcome run(jail::Executor& executor, std::string_view code, std::string_view globals_json = "{}",
            const RunArgs& args = {});

// The item's epilogue: `x = 1` must give exactly {"globals_dict":{"x":1}}.
// It runs with ample time limits (a limit_overrides context that
// attack_config() adds), whatever limits the test itself set.
void expect_clean_next_run(jail::Executor& executor);

// The longest a run ended by a time limit of `limit_seconds` may take in all:
// the limit plus the setup and cleanup a trivial run costs on `executor`
// here and now (measured, with a wide margin), so that "promptly" holds on a
// slow or loaded machine and still catches a kill that comes far too late.
double prompt_end_bound(jail::Executor& executor, double limit_seconds);

// -------------------------------------------------------------- bodies ---

// The emsg, which must be present.
std::string emsg(const Outcome& outcome);
// One global in API JSON spelling, or "<absent>".
std::string global(const std::string& body, std::string_view key);
// One global that must be a JSON string: its value.
std::string global_str(const std::string& body, std::string_view key);
// One global that must be an integer.
long long global_int(const std::string& body, std::string_view key);
// A global that must be a list of strings.
std::vector<std::string> global_strs(const std::string& body, std::string_view key);

// "Couldn't execute jailed code: stdout: b'', stderr: b'' with status code: N"
std::string silent_kill_emsg(int status);

// ---------------------------------------------------------- python code ---

// Defines attempt(f, *args): 'ok', or "<ExceptionType>: <str(e)>" exactly as
// a traceback's last line reads, e.g.
//   "PermissionError: [Errno 13] Permission denied: '/etc/hosts'".
extern const std::string kPyAttempt;
// kPyAttempt plus sc(nr, *args): a raw system call through ctypes, returning
// 'ok' or the errno's name ('EPERM'); every int argument is passed as a long.
extern const std::string kPySyscall;

// A Python string literal of `text` (ASCII-safe).
std::string py_str(std::string_view text);

// ------------------------------------------------------------ processes ---

// Live processes whose real uid is `uid` (anywhere on the host).
std::vector<pid_t> processes_of_uid(uid_t uid);
bool process_alive(pid_t pid);

// A run in a forked child of this process, with an Executor of its own.
// Needed because the runner kills every child of the process that calls it
// (it is a subreaper): processes a test keeps alive across a run (victims,
// listeners) must not be children of the running process. Also how several
// runs happen at once (the runner wants a single-threaded caller).
struct ForkedRun {
  pid_t pid = -1;
  int fd = -1;  // read end: the body, or "ERROR: ..." when setup failed
};
ForkedRun start_forked_run(const Config& config, int slot, std::string_view code,
                           std::string_view globals_json = "{}");
// Waits for the child; returns what it sent ("ERROR: ..." on failure).
std::string finish_forked_run(ForkedRun& run);

// ----------------------------------------------------------- host files ---

// A ZIP archive holding `m.py` (V = 1) and `bomb.bin`: 1 GiB of zeros,
// deflated to about 1 MiB. Built once per process with /usr/bin/python3.
const std::string& zip_bomb();

}  // namespace cjs::attack
