// codejail-worker: one jail worker of codejail-service. The supervisor execs
// it with one end of a socketpair; it answers execution requests from the
// acceptor one at a time, and exits after --max-requests of them so that it
// is replaced by a fresh process (gunicorn's --max-requests).
//
//   codejail-worker --fd N --slot S [--config FILE | --config-fd N] [--max-requests M]
//   codejail-worker --probes-json [--config FILE | --config-fd N]
//
// The second form runs the startup probes and prints them, and the layer
// states, as one JSON object; the supervisor calls it once at startup.

#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "common/api_errors.h"
#include "common/config.h"
#include "common/json_render.h"
#include "common/limits.h"
#include "common/log.h"
#include "common/payload.h"
#include "common/worker_protocol.h"
#include "jail/executor.h"
#include "jail/probes.h"
#include "jail/process_setup.h"
#include "jail/stale_cleanup.h"
#include "os/io.h"

namespace {

struct Options {
  int fd = -1;
  int slot = 0;
  long max_requests = 0;  // 0: never exit on our own
  std::string config_path;
  int config_fd = -1;  // the supervisor's validated configuration snapshot
  bool probes_json = false;
};

[[noreturn]] void usage(const std::string& message) {
  std::cerr << "codejail-worker: " << message
            << "\nusage: codejail-worker --fd N --slot S [--config FILE] [--max-requests M]\n"
               "       codejail-worker --probes-json [--config FILE]\n";
  std::exit(2);
}

long number(const char* text, long lo, long hi, const char* flag) {
  char* end = nullptr;
  long v = std::strtol(text, &end, 10);
  if (*text == '\0' || *end != '\0' || v < lo || v > hi)
    usage(std::string("bad value for ") + flag);
  return v;
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> const char* {
      if (i + 1 >= argc) usage(arg + " needs a value");
      return argv[++i];
    };
    if (arg == "--fd") {
      o.fd = static_cast<int>(number(value(), 3, 65535, "--fd"));
    } else if (arg == "--slot") {
      o.slot = static_cast<int>(number(value(), 0, 255, "--slot"));
    } else if (arg == "--max-requests") {
      o.max_requests = number(value(), 0, 1L << 40, "--max-requests");
    } else if (arg == "--config") {
      o.config_path = value();
    } else if (arg == "--config-fd") {
      o.config_fd = static_cast<int>(number(value(), 3, 65535, "--config-fd"));
    } else if (arg == "--probes-json") {
      o.probes_json = true;
    } else {
      usage("unknown argument " + arg);
    }
  }
  if (!o.probes_json && o.fd < 0) usage("--fd is required");
  return o;
}

cjs::Config load(const Options& o) {
  std::vector<std::string> warnings;
  if (o.config_fd >= 0) {
    const std::string source = "<configuration from the supervisor>";
    std::string text = cjs::read_config_fd(o.config_fd, source);
    close(o.config_fd);
    // Never fall back to defaults silently: an empty snapshot means a lost one.
    if (text.empty()) throw cjs::ConfigError("cannot read config file '" + source + "': empty");
    return cjs::parse_config(text, source, warnings);
  }
  if (o.config_path.empty()) return cjs::default_config();
  return cjs::load_config_file(o.config_path, warnings);  // the supervisor logged the warnings
}

int print_probes(cjs::jail::Executor& executor) {
  cjs::jail::ProbeReport report = cjs::jail::run_startup_probes(executor);
  cjs::json::Array probes, layers;
  for (const auto& p : report.probes) {
    probes.emplace_back(
        cjs::json::Object{{"name", p.name}, {"passed", p.passed}, {"reason", p.reason}});
  }
  for (const auto& l : executor.layer_states()) {
    layers.emplace_back(
        cjs::json::Object{{"name", l.name}, {"active", l.active}, {"detail", l.detail}});
  }
  cjs::json::Object out{{"probes", std::move(probes)}, {"layers", std::move(layers)}};
  std::cout << cjs::json::render_api(cjs::json::Value(std::move(out))) << "\n";
  return report.all_passed() ? 0 : 1;
}

// One request: the acceptor already ran the payload checks; running them
// again here gives us the parsed payload (and refuses anything malformed).
cjs::ExecutionSummary handle(cjs::jail::Executor& executor, const cjs::protocol::Request& req) {
  std::vector<std::string> names;
  for (const auto& file : req.files) names.push_back(file.name);
  cjs::PayloadCheck check = cjs::check_payload(req.payload_text, names);
  if (!check.payload) {
    cjs::ExecutionSummary refused;
    refused.body = cjs::execution_error_body(cjs::json::Value(cjs::json::Object{}),
                                             cjs::kMachineryFailureEmsg);
    refused.telemetry_status = cjs::kExecutedError;
    refused.failure = "worker refused a request the acceptor accepted: " + check.error.message;
    return refused;
  }
  if (req.log_code) cjs::log::debug("code", {{"code", check.payload->code}});
  return executor.execute(*check.payload, req.files);
}

// How long any answer of this worker may take: its longest REALTIME plus
// the setup and teardown around a run (sandbox dir, cgroup, the kill and
// its bounded waits). Sent in the hello, so that a reload's new limits come
// with the workers that apply them.
std::uint32_t answer_deadline_ms(const cjs::Config& config) {
  constexpr double kMarginSeconds = 30;
  const double seconds =
      cjs::longest_realtime_seconds(config.limits, config.limit_overrides) + kMarginSeconds;
  return static_cast<std::uint32_t>(std::min(seconds * 1000, 4e9));
}

// Removes what executions of killed workers left behind (stale_cleanup.h):
// at start and then after answers, at most once per kSweepInterval. A dir
// must also be a minute old (kMinAgeSeconds), so leftovers go with the first
// answer a minute after the kill.
class StaleSweeper {
 public:
  explicit StaleSweeper(const cjs::jail::Executor& executor) : executor_(executor) {}

  void sweep_if_due(bool force = false) {
    auto now = std::chrono::steady_clock::now();
    if (!force && now - last_ < kSweepInterval) return;
    last_ = now;
    if (!executor_.confined()) return;  // sabotaged test builds leave no cgroups/locks
    const std::string& root = executor_.config().sandbox_root;
    cjs::jail::SweepReport dirs = cjs::jail::sweep_stale_sandbox_dirs(root, kMinAgeSeconds);
    cjs::jail::SweepReport groups =
        cjs::jail::sweep_stale_run_cgroups(executor_.cgroups().parents(), root, kMinAgeSeconds);
    if (dirs.dirs_removed > 0 || groups.cgroups_removed > 0) {
      cjs::log::warning(
          "removed what killed executions left behind",
          {{"sandbox_dirs", cjs::log::number(static_cast<long long>(dirs.dirs_removed))},
           {"cgroups", cjs::log::number(static_cast<long long>(groups.cgroups_removed))}});
    }
    for (const auto* report : {&dirs, &groups}) {
      for (const auto& error : report->errors) {
        cjs::log::error("stale sandbox cleanup failed", {{"error", error}});
      }
    }
  }

 private:
  static constexpr auto kSweepInterval = std::chrono::seconds(1);
  // Unlocked dirs and empty run cgroups younger than this are left alone
  // (stale_cleanup.h).
  static constexpr double kMinAgeSeconds = 60;
  const cjs::jail::Executor& executor_;
  std::chrono::steady_clock::time_point last_{};
};

}  // namespace

int main(int argc, char** argv) {
  Options options = parse(argc, argv);
  // Workers never need the network; the sandboxes below inherit this too.
  cjs::jail::prepare_runner_process();
  try {
    cjs::Config config = load(options);
    if (config.log_code) cjs::log::set_min_level(cjs::log::Level::kDebug);
    cjs::jail::Executor executor(std::move(config), options.slot);
    if (options.probes_json) return print_probes(executor);
    executor.set_deferred_cleanup(true);  // answer first, then remove the run's dirs

    StaleSweeper sweeper(executor);
    sweeper.sweep_if_due(true);

    const int fd = options.fd;
    if (!cjs::os::write_all(fd, cjs::protocol::encode(cjs::protocol::Hello{
                                    options.slot, static_cast<std::int32_t>(getpid()),
                                    answer_deadline_ms(executor.config())}))) {
      return 1;
    }
    executor.prestart_next();
    for (long served = 0; options.max_requests == 0 || served < options.max_requests; ++served) {
      cjs::protocol::FrameKind kind;
      std::string body;
      if (!cjs::protocol::read_frame(fd, kind, body)) return 0;  // the acceptor went away
      auto request = kind == cjs::protocol::FrameKind::kRequest
                         ? cjs::protocol::decode_request(body)
                         : std::nullopt;
      if (!request) {
        cjs::log::error("malformed frame from the acceptor; exiting");
        return 1;
      }
      cjs::protocol::Response response;
      response.id = request->id;
      response.summary = handle(executor, *request);
      // Announce the last answer, so the acceptor sends nothing more here.
      response.last = options.max_requests != 0 && served + 1 == options.max_requests;
      if (!cjs::os::write_all(fd, cjs::protocol::encode(response))) return 0;
      executor.finish_cleanup();  // before the next request is read
      sweeper.sweep_if_due();
      // Warm start: the next sandbox starts up while we wait for its request.
      if (!response.last) executor.prestart_next();
    }
    return 0;  // recycled: the supervisor starts a fresh worker
  } catch (const std::exception& e) {
    cjs::log::error("worker cannot start",
                    {{"error", std::string(e.what())},
                     {"slot", cjs::log::number(static_cast<long long>(options.slot))}});
    return 3;
  }
}
