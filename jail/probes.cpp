#include "jail/probes.h"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/json_parse.h"
#include "common/log.h"
#include "os/egress_lock.h"

namespace cjs::jail {
namespace {

constexpr std::string_view kPermissionDenied = "PermissionError: [Errno 13] Permission denied";
constexpr std::string_view kWouldBlock =
    "BlockingIOError: [Errno 11] Resource temporarily unavailable";

struct ProbeRun {
  std::string emsg;  // empty on success
  std::optional<json::Value> globals;
  std::uint32_t applied_layers = 0;
  int landlock_abi = 0;
  bool warm_start = false;
};

// The configured limits, but time enough for any host: a probe tests
// confinement, and a slow first start (a cold page cache, a loaded machine)
// must not mark the service unhealthy.
Limits probe_limits(const Limits& configured) {
  Limits limits = configured;
  limits.cpu_seconds = kProbeCpuSeconds;
  limits.realtime_seconds = kProbeRealtimeSeconds;
  return limits;
}

ProbeRun run_code(Executor& executor, const std::string& code, const char* globals_json) {
  ExecPayload payload;
  payload.code = code;
  payload.globals = *json::parse(globals_json).value;
  payload.slug = "startup-probe";
  const Limits limits = probe_limits(executor.config().limits);
  // The path requests will take: with warm start, a prestarted sandbox.
  if (executor.config().warm_start) executor.prestart(payload.python_path, limits);
  ExecutionSummary report = executor.execute(payload, {}, limits);
  ProbeRun run;
  run.applied_layers = report.applied_layers;
  run.landlock_abi = report.landlock_abi;
  run.warm_start = report.warm_start;
  json::ParseResult body = json::parse(report.body);
  if (!body || !body.value->is_object()) {
    run.emsg = "unparseable response body";
    return run;
  }
  if (const json::Value* emsg = json::find_member(body.value->as_object(), "emsg");
      emsg != nullptr && emsg->is_string()) {
    run.emsg = emsg->as_string();
  }
  if (const json::Value* g = json::find_member(body.value->as_object(), "globals_dict")) {
    run.globals = *g;
  }
  if (!report.failure.empty() && run.emsg.empty()) run.emsg = report.failure;
  if (!report.failure.empty()) run.emsg += " (" + report.failure + ")";
  return run;
}

// A probe that expects the code to fail with one of `expected` in its emsg.
ProbeResult expect_denied(Executor& executor, const char* name, const std::string& code,
                          std::initializer_list<std::string_view> expected) {
  ProbeRun run = run_code(executor, code, "{}");
  ProbeResult result{name, false, "", run.applied_layers, run.landlock_abi, run.warm_start};
  if (run.emsg.empty()) {
    result.reason = "the code ran without error: confinement is missing";
    return result;
  }
  result.passed = std::any_of(expected.begin(), expected.end(), [&](std::string_view e) {
    return run.emsg.find(e) != std::string::npos;
  });
  if (!result.passed) result.reason = "unexpected outcome: " + run.emsg;
  return result;
}

ProbeResult probe_functionality(Executor& executor) {
  ProbeRun run = run_code(executor, "x = x + 1", R"({"x": 16})");
  ProbeResult result{"functionality",  false,         "", run.applied_layers,
                     run.landlock_abi, run.warm_start};
  if (!run.emsg.empty()) {
    result.reason = run.emsg;
    return result;
  }
  const json::Value* x = run.globals && run.globals->is_object()
                             ? json::find_member(run.globals->as_object(), "x")
                             : nullptr;
  result.passed = x != nullptr && x->is_number() && x->as_number().text == "17";
  if (!result.passed) result.reason = "x is not 17 after x = x + 1";
  return result;
}

}  // namespace

bool ProbeReport::all_passed() const {
  return !probes.empty() &&
         std::all_of(probes.begin(), probes.end(), [](const ProbeResult& p) { return p.passed; });
}

ProbeReport run_startup_probes(Executor& executor) {
  ProbeReport report;
  report.probes.push_back(probe_functionality(executor));
  report.probes.push_back(
      expect_denied(executor, "disk", "import os; ret = os.listdir('/')", {kPermissionDenied}));
  report.probes.push_back(expect_denied(executor, "exec",
                                        "import subprocess\nret = subprocess.check_output('date')",
                                        {kWouldBlock, kPermissionDenied}));
  report.probes.push_back(expect_denied(
      executor, "network", "import socket\ns = socket.socket(socket.AF_INET, socket.SOCK_STREAM)",
      {kPermissionDenied}));
  ProbeResult egress{"egress", false, ""};
  egress.passed = os::probe_egress(egress.reason);
  report.probes.push_back(egress);
  if (executor.config().require_apparmor) {
    ProbeResult apparmor{"apparmor", false, ""};
    for (const LayerState& layer : executor.layer_states()) {
      if (layer.name == "apparmor") {
        apparmor.passed = layer.active;
        if (!layer.active) apparmor.reason = "required by configuration but " + layer.detail;
      }
    }
    report.probes.push_back(apparmor);
  }
  for (const ProbeResult& probe : report.probes) {
    if (probe.passed) {
      log::info("Startup check '" + probe.name + "' passed");
    } else {
      log::error("Startup check '" + probe.name + "' failed with: " + probe.reason);
    }
  }
  return report;
}

}  // namespace cjs::jail
