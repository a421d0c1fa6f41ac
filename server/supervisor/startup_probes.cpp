#include "server/supervisor/startup_probes.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/json_parse.h"

namespace cjs::server {
namespace {

std::vector<ProbeOutcome> failed(std::string reason) {
  return {ProbeOutcome{"startup", false, std::move(reason)}};
}

std::string read_to_end(int fd) {
  std::string text;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR)) {
    if (n > 0) text.append(buf, static_cast<std::size_t>(n));
  }
  return text;
}

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
  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0) {
    return failed(std::string("cannot start probes: ") + std::strerror(errno));
  }
  std::string error;
  const pid_t pid = launcher.launch({{"--probes-json"}, config_text, {{out[1], 1}}}, error);
  close(out[1]);
  if (pid < 0) {
    close(out[0]);
    return failed("cannot start probes: " + error);
  }
  const std::string report = read_to_end(out[0]);
  close(out[0]);
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
