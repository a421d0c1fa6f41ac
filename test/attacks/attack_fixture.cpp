#include "attack_fixture.h"

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "common/json_render.h"
#include "common/payload.h"
#include "jail/sabotage.h"

namespace cjs::attack {

// ---------------------------------------------------------------- slots ---
//
// Slot table (uid = 61000 + slot):
//   100 + 3 * (item - 1) + variant   items 1-45, variant 0..2  -> 100..234
//   240 + k                          item 16's parallel runs, k < 16 -> 240..255
// and, in the second block (uid = 61256 + slot, late_item_config()):
//   3 * (item - 46) + variant        items 46-50, variant 0..2 -> 0..14
int slot_for(int item, int variant) {
  if (item == 16) {
    REQUIRE(variant >= 0);
    REQUIRE(variant < 16);
    return 240 + variant;
  }
  REQUIRE(item >= 1);
  REQUIRE(item <= 45);
  REQUIRE(variant >= 0);
  REQUIRE(variant <= 2);
  return 100 + 3 * (item - 1) + variant;
}

int late_slot(int item, int variant) {
  REQUIRE(item >= 46);
  REQUIRE(item <= 50);
  REQUIRE(variant >= 0);
  REQUIRE(variant <= 2);
  return 3 * (item - 46) + variant;
}

uid_t slot_uid(int slot) { return attack_config().sandbox_uid_base + static_cast<uid_t>(slot); }

// ---------------------------------------------------------------- config ---

namespace {

// The limit_overrides context expect_clean_next_run() runs in.
constexpr const char* kNextRunContext = "attack-tests:next-run";

}  // namespace

Config attack_config() {
  Config config = test::in_test_mode(default_config());
  if (config.warm_start) config.sandbox_uid_base += kWarmPassUidShift;
  config.limits.cpu_seconds = kAmpleCpuSeconds;
  config.limits.realtime_seconds = kAmpleRealtimeSeconds;
  config.limits.vmem_bytes = 512 << 20;
  config.limits.fsize_bytes = 1 << 20;
  config.limits.nproc = 15;
  LimitOverride ample_time;
  ample_time.cpu_seconds = kAmpleCpuSeconds;
  ample_time.realtime_seconds = kAmpleRealtimeSeconds;
  config.limit_overrides[kNextRunContext] = ample_time;
  return config;
}

Config attack_config(const std::function<void(Config&)>& tweak) {
  Config config = attack_config();
  tweak(config);
  return config;
}

Config late_item_config() {
  Config config = attack_config();
  config.sandbox_uid_base = kLateItemUidBase + (config.warm_start ? kWarmPassUidShift : 0);
  return config;
}

bool sabotaged() { return jail::sabotage_requested(); }

namespace {

// Interface names of this process's network namespace.
std::vector<std::string> network_interfaces() {
  std::vector<std::string> names;
  std::ifstream dev("/proc/net/dev");
  std::string line;
  int n = 0;
  while (std::getline(dev, line)) {
    if (++n <= 2) continue;  // two header lines
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string name = line.substr(0, colon);
    name.erase(0, name.find_first_not_of(' '));
    names.push_back(name);
  }
  return names;
}

}  // namespace

void require_isolated_network() {
  std::vector<std::string> names = network_interfaces();
  std::string joined;
  for (const auto& n : names) joined += (joined.empty() ? "" : ", ") + n;
  INFO("network interfaces of this process: " << joined);
  if (names.empty() || names.size() != 1 || names[0] != "lo") {
    FAIL(
        "refusing to run attacks outside an isolated network namespace: run inside "
        "`unshare --net -- bash -c 'ip link set lo up && ...'`");
  }
}

jail::Executor make_executor(const Config& config, int slot) {
  require_isolated_network();
  return jail::Executor(config, slot);
}

// ------------------------------------------------------------------ runs ---

std::string payload_json(std::string_view code, std::string_view globals_json,
                         const RunArgs& args) {
  return test::payload_json(code, globals_json, args.python_path, args.limit_overrides_context);
}

Outcome run(jail::Executor& executor, std::string_view code, std::string_view globals_json,
            const RunArgs& args) {
  std::vector<std::string> names;
  for (const auto& f : args.files) names.push_back(f.name);
  const ExecPayload payload = test::accepted_payload(payload_json(code, globals_json, args), names);
  Outcome outcome;
  const auto start = std::chrono::steady_clock::now();
  outcome.report = test::execute_in_mode(executor, payload, args.files);
  outcome.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return outcome;
}

void expect_clean_next_run(jail::Executor& executor) {
  RunArgs args;
  args.limit_overrides_context = kNextRunContext;
  Outcome next = run(executor, "x = 1", "{}", args);
  INFO("failure: " << next.report.failure);
  CHECK(next.body() == R"({"globals_dict":{"x":1}})");
}

double prompt_end_bound(jail::Executor& executor, double limit_seconds) {
  RunArgs args;
  args.limit_overrides_context = kNextRunContext;
  const Outcome trivial = run(executor, "pass", "{}", args);
  INFO("trivial run: " << trivial.body());
  CHECK(trivial.body() == R"({"globals_dict":{}})");
  // A second of margin, plus four times what a run costs here and now.
  return limit_seconds + 1.0 + 4 * trivial.seconds;
}

// -------------------------------------------------------------- bodies ---

std::string emsg(const Outcome& outcome) {
  auto e = emsg_of(outcome.body());
  INFO("body: " << outcome.body().substr(0, 2000));
  INFO("failure: " << outcome.report.failure);
  REQUIRE(e.has_value());
  return *e;
}

namespace {

const json::Value* find_global(const json::Object& body, std::string_view key) {
  const json::Value* globals = json::find_member(body, "globals_dict");
  REQUIRE(globals != nullptr);
  REQUIRE(globals->is_object());
  return json::find_member(globals->as_object(), key);
}

}  // namespace

std::string global(const std::string& body, std::string_view key) {
  json::Object object = parse_body(body);
  const json::Value* value = find_global(object, key);
  return value == nullptr ? "<absent>" : json::render_api(*value);
}

std::string global_str(const std::string& body, std::string_view key) {
  json::Object object = parse_body(body);
  const json::Value* value = find_global(object, key);
  INFO("body: " << body.substr(0, 3000));
  INFO("key: " << key);
  REQUIRE(value != nullptr);
  REQUIRE(value->is_string());
  return value->as_string();
}

long long global_int(const std::string& body, std::string_view key) {
  json::Object object = parse_body(body);
  const json::Value* value = find_global(object, key);
  INFO("body: " << body.substr(0, 3000));
  INFO("key: " << key);
  REQUIRE(value != nullptr);
  REQUIRE(value->is_number());
  return std::stoll(json::render_api(*value));
}

std::vector<std::string> global_strs(const std::string& body, std::string_view key) {
  json::Object object = parse_body(body);
  const json::Value* value = find_global(object, key);
  INFO("body: " << body.substr(0, 3000));
  INFO("key: " << key);
  REQUIRE(value != nullptr);
  REQUIRE(value->is_array());
  std::vector<std::string> out;
  for (const auto& item : value->as_array()) {
    REQUIRE(item.is_string());
    out.push_back(item.as_string());
  }
  return out;
}

std::string silent_kill_emsg(int status) {
  return "Couldn't execute jailed code: stdout: b'', stderr: b'' with status code: " +
         std::to_string(status);
}

// ---------------------------------------------------------- python code ---

const std::string kPyAttempt =
    "def attempt(f, *args):\n"
    "    try:\n"
    "        f(*args)\n"
    "    except BaseException as e:\n"
    "        return type(e).__name__ + ': ' + str(e)\n"
    "    return 'ok'\n";

const std::string kPySyscall =
    kPyAttempt +
    "import ctypes as _ct, errno as _errno\n"
    "_libc = _ct.CDLL(None, use_errno=True)\n"
    "_libc.syscall.restype = _ct.c_long\n"
    "def sc(nr, *args):\n"
    "    conv = [_ct.c_long(a) if isinstance(a, int) else a for a in args]\n"
    "    _ct.set_errno(0)\n"
    "    r = _libc.syscall(_ct.c_long(nr), *conv)\n"
    "    if r == -1:\n"
    "        e = _ct.get_errno()\n"
    "        return _errno.errorcode.get(e, str(e))\n"
    "    return 'ok'\n";

std::string py_str(std::string_view text) {
  std::string out = "'";
  for (unsigned char c : text) {
    if (c == '\\' || c == '\'') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c >= 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "'";
}

// ------------------------------------------------------------ processes ---

std::vector<pid_t> processes_of_uid(uid_t uid) {
  std::vector<pid_t> found;
  for (pid_t pid : test::all_pids()) {
    std::istringstream status(read_file("/proc/" + std::to_string(pid) + "/status"));
    std::string line;
    while (std::getline(status, line)) {
      if (line.rfind("Uid:", 0) == 0) {
        if (std::strtol(line.c_str() + 4, nullptr, 10) == static_cast<long>(uid)) {
          found.push_back(pid);
        }
        break;
      }
    }
  }
  return found;
}

bool process_alive(pid_t pid) {
  // A zombie still answers kill(pid, 0): look at its state.
  std::string stat = read_file("/proc/" + std::to_string(pid) + "/stat");
  if (stat.empty()) return false;
  auto paren = stat.rfind(')');
  return paren != std::string::npos && paren + 2 < stat.size() && stat[paren + 2] != 'Z' &&
         stat[paren + 2] != 'X';
}

ForkedRun start_forked_run(const Config& config, int slot, std::string_view code,
                           std::string_view globals_json) {
  require_isolated_network();
  const ExecPayload payload = test::accepted_payload(payload_json(code, globals_json), {});
  int fds[2];
  REQUIRE(pipe2(fds, O_CLOEXEC) == 0);
  std::fflush(nullptr);
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    close(fds[0]);
    std::string out;
    try {
      jail::Executor executor(config, slot);
      test::prestart_in_mode(executor, payload);
      ExecutionSummary report = executor.execute(payload, {});
      out = report.body;
      if (!report.failure.empty()) out = "ERROR: " + report.failure + " body: " + out;
      if (config.warm_start && report.sandbox_status && !report.warm_start) {
        out = "ERROR: a run in warm mode started cold; body: " + out;
      }
    } catch (const std::exception& e) {
      out = std::string("ERROR: ") + e.what();
    }
    std::size_t done = 0;
    while (done < out.size()) {
      ssize_t n = write(fds[1], out.data() + done, out.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      done += static_cast<std::size_t>(n);
    }
    _exit(0);
  }
  close(fds[1]);
  return ForkedRun{pid, fds[0]};
}

std::string finish_forked_run(ForkedRun& forked) {
  std::string out;
  char buf[65536];
  while (true) {
    ssize_t n = read(forked.fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  close(forked.fd);
  forked.fd = -1;
  int status = 0;
  while (waitpid(forked.pid, &status, 0) < 0 && errno == EINTR) {
  }
  forked.pid = -1;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    out = "ERROR: the forked runner ended with wait status " + std::to_string(status) +
          " after sending: " + out;
  }
  return out;
}

// ----------------------------------------------------------- host files ---

namespace {

// Writes the bomb to stdout: a raw deflate stream made of one full-flushed
// block of 1 MiB of zeros repeated 1024 times (a full flush resets the
// dictionary, so the blocks concatenate), then the final empty block.
constexpr const char* kZipBombScript = R"PY(
import struct, sys, zlib
chunk = bytes(1 << 20)
co = zlib.compressobj(9, zlib.DEFLATED, -15)
first = co.compress(chunk) + co.flush(zlib.Z_FULL_FLUSH)
block = co.compress(chunk) + co.flush(zlib.Z_FULL_FLUSH)
assert first == block
data = block * 1024 + co.flush()
crc = 0
for _ in range(1024):
    crc = zlib.crc32(chunk, crc)
module = b'V = 1\n'
entries = [(b'm.py', 0, module, zlib.crc32(module), len(module)),
           (b'bomb.bin', 8, data, crc, 1024 * len(chunk))]
out = b''
central = b''
for name, method, payload, c, usize in entries:
    off = len(out)
    out += struct.pack('<IHHHHHIIIHH', 0x04034b50, 20, 0, method, 0, 33, c, len(payload),
                       usize, len(name), 0) + name + payload
    central += struct.pack('<IHHHHHHIIIHHHHHII', 0x02014b50, 20, 20, 0, method, 0, 33, c,
                           len(payload), usize, len(name), 0, 0, 0, 0, 0o100644 << 16,
                           off) + name
out += central + struct.pack('<IHHHHIIH', 0x06054b50, 0, 0, 2, 2, len(central), len(out), 0)
sys.stdout.buffer.write(out)
)PY";

}  // namespace

const std::string& zip_bomb() {
  static const std::string bomb = [] {
    ScratchDir dir;
    const std::string script = dir.path + "/mkbomb.py";
    const std::string zip = dir.path + "/bomb.zip";
    { std::ofstream(script) << kZipBombScript; }
    const std::string cmd = "/usr/bin/python3 '" + script + "' > '" + zip + "'";
    REQUIRE(std::system(cmd.c_str()) == 0);
    return read_file(zip);
  }();
  return bomb;
}

}  // namespace cjs::attack
