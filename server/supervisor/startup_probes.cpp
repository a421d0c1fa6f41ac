#include "server/supervisor/startup_probes.h"

#include <sys/wait.h>

#include <cerrno>
#include <cstring>

#include "common/json_parse.h"
#include "os/fd.h"
#include "os/io.h"

namespace cjs::server {
namespace {

std::vector<ProbeOutcome> failed(std::string reason) {
  return {ProbeOutcome{"startup", false, std::move(reason)}};
}

// A probe report is a few hundred bytes; anything near this is not one.
constexpr std::size_t kMaxProbeReportBytes = 1 << 20;

}  // namespace

std::vector<ProbeOutcome> parse_probe_report(const std::string& json_text) {
  std::vector<ProbeOutcome> probes;
  json::ParseResult parsed = json::parse(json_text);
  const json::Value* list = parsed && parsed.value->is_object()
                                ? json::find_member(parsed.value->as_object(), "probes")
                                : nullptr;
  if (list == nullptr || !list->is_array()) return probes;
  for (const auto& item : list->as_array()) {
    if (!item.is_object()) continue;
    const auto& o = item.as_object();
    const json::Value* name = json::find_member(o, "name");
    const json::Value* passed = json::find_member(o, "passed");
    const json::Value* reason = json::find_member(o, "reason");
    probes.push_back({name && name->is_string() ? name->as_string() : "?",
                      passed && passed->is_bool() && passed->as_bool(),
                      reason && reason->is_string() ? reason->as_string() : ""});
  }
  return probes;
}

std::vector<ProbeOutcome> run_startup_probes(const WorkerLauncher& launcher,
                                             const std::string& config_text) {
  std::optional<os::Pipe> out = os::open_pipe();
  if (!out) return failed(std::string("cannot start probes: ") + std::strerror(errno));
  std::string error;
  const pid_t pid =
      launcher.launch({{"--probes-json"}, config_text, {{out->write_end.get(), 1}}}, error);
  out->write_end.reset();
  if (pid < 0) return failed("cannot start probes: " + error);
  // What came before a read error is parsed as it is; an oversized report is
  // cut, and then does not parse.
  const std::string report = os::read_all(out->read_end.get(), kMaxProbeReportBytes).data;
  out->read_end.reset();
  int status = 0;
  waitpid(pid, &status, 0);
  std::vector<ProbeOutcome> probes = parse_probe_report(report);
  if (probes.empty()) {
    // (An empty "probes" list is a failed run too: nothing was proven.)
    return failed("the probe run failed (worker exit status " +
                  std::to_string(WEXITSTATUS(status)) + ")");
  }
  return probes;
}

}  // namespace cjs::server
