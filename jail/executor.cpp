#include "jail/executor.h"

#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <stdexcept>

#include "common/json_render.h"
#include "common/log.h"
#include "jail/response.h"
#include "jail/sandbox_dir.h"
#include "jail/wrapper_source.h"

namespace cjs::jail {
namespace {

// The interpreter's environment: nothing from ours (api.md 4).
std::vector<std::string> sandbox_environment(const std::string& sandbox_dir) {
  return {
      "PATH=/usr/local/bin:/usr/bin:/bin",
      "TMPDIR=tmp",
      "HOME=" + sandbox_dir + "/tmp",
      "LANG=C.UTF-8",
  };
}

ExecutionReport machinery_failure(const ExecPayload& payload, std::string why) {
  ExecutionReport report;
  report.body = error_response(payload.globals, kMachineryFailureEmsg);
  report.telemetry_status = "executed.error";
  report.failure = std::move(why);
  return report;
}

}  // namespace

Executor::Executor(Config config) : config_(std::move(config)) {
  if (geteuid() != 0) return;  // unprivileged: the code runs as our own uid
  passwd* pw = getpwnam(config_.sandbox_user.c_str());
  if (pw == nullptr) {
    throw ConfigError("CODE_JAIL.user: sandbox user '" + config_.sandbox_user +
                      "' does not exist (deploy/setup-host creates it)");
  }
  if (pw->pw_uid == 0) throw ConfigError("CODE_JAIL.user: the sandbox user must not be root");
  sandbox_uid_ = pw->pw_uid;
  sandbox_gid_ = pw->pw_gid;
}

ExecutionReport Executor::execute(const ExecPayload& payload,
                                  const std::vector<UploadedFile>& files) {
  const Limits limits =
      resolve_limits(config_.limits, config_.limit_overrides, payload.limit_overrides_context);

  // A python_path entry must name an uploaded file; the reference would look
  // for it on the service's own disk, which we never do.
  for (const auto& entry : payload.python_path) {
    bool uploaded = std::any_of(files.begin(), files.end(),
                                [&](const UploadedFile& f) { return f.name == entry; });
    if (!uploaded) {
      auto report = machinery_failure(payload, "python_path entry '" + entry +
                                                   "' names no uploaded file");
      report.limits = limits;
      return report;
    }
  }

  ExecutionReport report;
  report.limits = limits;
  std::optional<SandboxDir> dir;
  RunResult run;
  try {
    std::optional<Ownership> owner;
    if (sandbox_uid_) owner = Ownership{*sandbox_uid_, *sandbox_gid_};
    dir.emplace(SandboxDir::create(config_.sandbox_root, owner));
    dir->write_file("jailed_code", wrapper_source(payload.python_path));
    for (const auto& file : files) dir->write_file(file.name, file.content);
    dir->seal();

    ChildPlan plan;
    plan.python_bin = config_.python_bin;
    plan.argv = {config_.python_bin, "-E", "-B", "jailed_code"};
    plan.env = sandbox_environment(dir->host_path());
    plan.cwd = dir->host_path();
    plan.rlimits = plan_rlimits(limits);
    plan.uid = sandbox_uid_;
    plan.gid = sandbox_gid_;
    plan.finalize();

    // The wrapper reads [code, globals]; ASCII JSON decodes the same under
    // any locale the sandbox might have.
    std::string stdin_data = "[" + json::render_ascii(json::Value(payload.code)) + "," +
                             json::render_ascii(payload.globals) + "]";
    // The sandbox may always send back what it was given, plus the cap.
    RunOptions options;
    options.realtime_seconds = limits.realtime_seconds;
    options.stdout_cap = config_.stdout_cap_bytes + stdin_data.size();
    options.stderr_cap = config_.stderr_cap_bytes;
    run = run_sandboxed(plan, stdin_data, options);
  } catch (const std::exception& e) {
    report = machinery_failure(payload, e.what());
    report.limits = limits;
    return report;
  }
  std::string cleanup_error;
  if (!dir->remove(cleanup_error)) {
    log::error("sandbox dir cleanup failed",
               {{"dir", dir->host_path()}, {"error", cleanup_error}});
  }

  report.wall_seconds = run.wall_seconds;
  report.stdout_bytes = run.stdout_stream.total_bytes;
  report.stderr_bytes = run.stderr_stream.total_bytes;
  report.stdout_truncated = run.stdout_stream.truncated();
  report.stderr_truncated = run.stderr_stream.truncated();
  if (report.stdout_truncated || report.stderr_truncated) {
    log::warning("sandbox output truncated",
                 {{"stdout_bytes", log::number(static_cast<long long>(report.stdout_bytes))},
                  {"stderr_bytes", log::number(static_cast<long long>(report.stderr_bytes))},
                  {"stdout_cap", log::number(static_cast<long long>(config_.stdout_cap_bytes))},
                  {"stderr_cap", log::number(static_cast<long long>(config_.stderr_cap_bytes))}});
  }

  if (run.outcome == RunResult::Outcome::kSetupFailed) {
    auto failed = machinery_failure(payload, run.failure);
    failed.limits = limits;
    failed.wall_seconds = run.wall_seconds;
    return failed;
  }
  report.sandbox_status = run.status;
  if (run.status != 0) {
    report.body = error_response(
        payload.globals,
        jailed_code_emsg(run.stdout_stream.data, run.stderr_stream.data, run.status));
    report.telemetry_status = "executed.error";
    return report;
  }
  std::optional<json::Object> globals;
  if (!run.stdout_stream.truncated()) globals = parse_sandbox_globals(run.stdout_stream.data);
  if (!globals) {
    report.body = error_response(payload.globals, kCorruptedStdoutEmsg);
    report.telemetry_status = "executed.error";
    return report;
  }
  report.body = success_response(payload.globals, *globals);
  report.success = true;
  report.telemetry_status = "executed.success";
  return report;
}

}  // namespace cjs::jail
