#include "executor_fixture.h"

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <map>
#include <sstream>

#include "common/json_render.h"
#include "common/payload.h"
#include "test/support/warm_start.h"

namespace cjs::itest {

Config test_config() {
  Config config = test::in_test_mode(default_config());
  config.limits.cpu_seconds = kAmpleCpuSeconds;
  config.limits.realtime_seconds = kAmpleRealtimeSeconds;
  return config;
}

namespace {

// The lowest free slot of 1..99, locked until this process exits; -1 if none.
int lock_free_slot() {
  // /run is a tmpfs: the locks never outlive a boot; flock() ones end with
  // the process that holds them.
  const std::string dir = "/run/cjs-test-slots";
  ::mkdir(dir.c_str(), 0700);
  for (int candidate = 1; candidate < 100; ++candidate) {
    const std::string path = dir + "/integration-" + std::to_string(candidate);
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) continue;
    if (::flock(fd, LOCK_EX | LOCK_NB) == 0) return candidate;  // fd stays open: held
    ::close(fd);
  }
  return -1;
}

}  // namespace

int claim_extra_slot() {
  const int slot = lock_free_slot();
  INFO("no free integration test slot in /run/cjs-test-slots");
  REQUIRE(slot > 0);
  return slot;
}

int test_slot() {
  static const int slot = lock_free_slot();
  INFO("no free integration test slot in /run/cjs-test-slots");
  REQUIRE(slot > 0);
  return slot;
}

Config config_with(const std::function<void(Config&)>& tweak) {
  Config config = test_config();
  tweak(config);
  return config;
}

Config config_with_limits(const std::function<void(Limits&)>& tweak) {
  Config config = test_config();
  tweak(config.limits);
  return config;
}

std::string payload_json(std::string_view code, std::string_view globals_json,
                         const RunArgs& args) {
  return test::payload_json(code, globals_json, args.python_path, args.limit_overrides_context);
}

Execution execute(std::string_view code, std::string_view globals_json, const RunArgs& args) {
  std::vector<std::string> names;
  for (const auto& f : args.files) names.push_back(f.name);
  const ExecPayload payload = test::accepted_payload(payload_json(code, globals_json, args), names);
  jail::Executor executor(args.config ? *args.config : test_config(),
                          args.slot > 0 ? args.slot : test_slot());
  Execution result;
  const auto start = std::chrono::steady_clock::now();
  result.report = test::execute_in_mode(executor, payload, args.files);
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

std::string run(std::string_view code, std::string_view globals_json, const RunArgs& args) {
  return execute(code, globals_json, args).report.body;
}

json::Object globals_of(const std::string& body) {
  json::Object object = parse_body(body);
  const json::Value* globals = json::find_member(object, "globals_dict");
  INFO("body: " << body.substr(0, 2000));
  REQUIRE(globals != nullptr);
  REQUIRE(globals->is_object());
  return globals->as_object();
}

std::optional<std::string> global_json(const std::string& body, std::string_view key) {
  json::Object globals = globals_of(body);
  const json::Value* value = json::find_member(globals, key);
  if (value == nullptr) return std::nullopt;
  return json::render_api(*value);
}

std::vector<std::string> global_keys(const std::string& body) {
  std::vector<std::string> keys;
  for (const auto& member : globals_of(body)) keys.push_back(member.first);
  return keys;
}

uid_t sandbox_uid() {
  REQUIRE(geteuid() == 0);
  return test_config().sandbox_uid_base + static_cast<uid_t>(test_slot());
}

double prompt_end_bound(double limit_seconds) {
  const Execution trivial = execute("pass");
  INFO("trivial run: " << trivial.body());
  CHECK(trivial.body() == R"({"globals_dict":{}})");
  // A second of margin, plus four times what a run costs here and now.
  return limit_seconds + 1.0 + 4 * trivial.seconds;
}

namespace {

// Real uid and parent pid from /proc/PID/status; false if the process is gone.
bool uid_and_parent(pid_t pid, long& uid, long& ppid) {
  std::istringstream status(test::read_file("/proc/" + std::to_string(pid) + "/status"));
  std::string line;
  bool got_uid = false, got_ppid = false;
  while (std::getline(status, line)) {
    if (line.rfind("PPid:", 0) == 0) {
      ppid = std::strtol(line.c_str() + 5, nullptr, 10);
      got_ppid = true;
    } else if (line.rfind("Uid:", 0) == 0) {
      uid = std::strtol(line.c_str() + 4, nullptr, 10);
      got_uid = true;
    }
  }
  return got_uid && got_ppid;
}

}  // namespace

std::vector<pid_t> descendants_of_uid(uid_t uid) {
  std::map<pid_t, pid_t> parent;
  std::vector<pid_t> candidates;
  for (pid_t pid : test::all_pids()) {
    long u = -1, pp = -1;
    if (!uid_and_parent(pid, u, pp)) continue;
    parent[pid] = static_cast<pid_t>(pp);
    if (u == static_cast<long>(uid)) candidates.push_back(pid);
  }
  const pid_t self = getpid();
  std::vector<pid_t> found;
  for (pid_t pid : candidates) {
    pid_t p = pid;
    for (int depth = 0; depth < 4096 && p > 1; ++depth) {
      auto it = parent.find(p);
      if (it == parent.end()) break;
      p = it->second;
      if (p == self) {
        found.push_back(pid);
        break;
      }
    }
  }
  return found;
}

}  // namespace cjs::itest
