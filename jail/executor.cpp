#include "jail/executor.h"

#include <dirent.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <fstream>
#include <stdexcept>

#include "common/json_parse.h"
#include "common/json_render.h"
#include "common/log.h"
#include "jail/apparmor.h"
#include "jail/response.h"
#include "jail/sabotage.h"
#include "jail/sandbox_dir.h"
#include "jail/wrapper_source.h"

namespace cjs::jail {
namespace {

// The interpreter's environment: nothing from ours (api.md 4).
std::vector<std::string> sandbox_environment(const std::string& sandbox_dir) {
  // HOME under tmp/: the only writable place (matplotlib and friends cache there).
  return {
      "PATH=/usr/local/bin:/usr/bin:/bin",
      "TMPDIR=tmp",
      "HOME=" + sandbox_dir + "/tmp",
      "LANG=C.UTF-8",
  };
}

// What glibc's malloc reads to learn the host's transparent-huge-page mode
// and size (GLIBC_TUNABLES below): shown read-only in the sandbox where the
// host has them, nothing else of /sys.
std::vector<std::string> thp_settings_files() {
  std::vector<std::string> files;
  for (const char* file : {"/sys/kernel/mm/transparent_hugepage/enabled",
                           "/sys/kernel/mm/transparent_hugepage/hpage_pmd_size"}) {
    if (access(file, R_OK) == 0) files.push_back(file);
  }
  return files;
}

std::string parent_dir(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == 0 || slash == std::string::npos ? "/" : path.substr(0, slash);
}

bool is_within(const std::string& path, const std::string& dir) {
  return path == dir || path.rfind(dir + "/", 0) == 0;
}

// Files under /etc the interpreter and the course packages read (found with
// strace): the loader cache, Debian's sitecustomize, matplotlib and
// fontconfig settings, the time zone. Everything else under /etc is denied.
std::vector<std::string> interpreter_etc_files() {
  std::vector<std::string> files = {"/etc/ld.so.cache", "/etc/localtime", "/etc/matplotlibrc",
                                    "/etc/fonts"};
  if (DIR* etc = opendir("/etc")) {
    while (dirent* entry = readdir(etc)) {
      if (std::string_view(entry->d_name).starts_with("python3")) {
        files.push_back(std::string("/etc/") + entry->d_name);
      }
    }
    closedir(etc);
  }
  return files;
}

// The empty directory each run's new root is mounted on (inside the run's
// own mount namespace, so concurrent runs share it). Refuses anything that
// is not a plain directory of ours.
std::string prepare_staging_root(const std::string& sandbox_root) {
  std::string path = sandbox_root == "/" ? "/.codejail-root" : sandbox_root + "/.codejail-root";
  if (mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) {
    throw ConfigError("CODEJAIL_SERVICE.sandbox_root: cannot create " + path + ": " +
                      std::strerror(errno));
  }
  struct stat st {};
  if (lstat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid()) {
    throw ConfigError("CODEJAIL_SERVICE.sandbox_root: " + path +
                      " exists but is not a directory owned by the service");
  }
  return path;
}

// libcodejail-execlock.so: next to the running binary (the build tree),
// else ../lib/codejail-service/ relative to it (the installed layout), else,
// for binaries inside the build tree only (tests run from build/test/), where
// the build put it. Installed binaries never look into the build tree.
std::string find_exec_lock() {
  constexpr const char* kName = "libcodejail-execlock.so";
  char self[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  std::vector<std::string> candidates;
  if (n > 0) {
    std::string path(self, static_cast<std::size_t>(n));
    std::string dir = path.substr(0, path.rfind('/') + 1);
    candidates.push_back(dir + kName);
    candidates.push_back(dir + "../lib/codejail-service/" + kName);
    if (path.rfind(CJS_BUILD_DIR "/", 0) == 0) candidates.push_back(CJS_EXEC_LOCK_BUILD_PATH);
  }
  for (const auto& candidate : candidates) {
    char resolved[PATH_MAX];
    if (realpath(candidate.c_str(), resolved) != nullptr && access(resolved, R_OK) == 0) {
      return resolved;
    }
  }
  throw ConfigError(std::string("cannot find ") + kName +
                    " next to the binary or in ../lib/codejail-service/ relative to it"
                    "; the sandbox cannot forbid exec without it");
}

// The answer when our machinery fails: the input globals with the
// documented emsg; `why` goes to the logs only.
ExecutionSummary machinery_failure(const ExecPayload& payload, const Limits& limits,
                                   std::string why) {
  ExecutionSummary summary;
  summary.body = error_response(payload.globals, kMachineryFailureEmsg);
  summary.telemetry_status = kExecutedError;
  summary.failure = std::move(why);
  summary.limits = limits;
  return summary;
}

// A python_path entry must name an uploaded file; the reference would look
// for it on the service's own disk, which we never do. The first that does
// not, if any.
std::optional<std::string> entry_without_upload(const ExecPayload& payload,
                                                const std::vector<UploadedFile>& files) {
  for (const auto& entry : payload.python_path) {
    bool uploaded = std::any_of(files.begin(), files.end(),
                                [&](const UploadedFile& f) { return f.name == entry; });
    if (!uploaded) return entry;
  }
  return std::nullopt;
}

// The wrapper reads [code, globals]; ASCII JSON decodes the same under any
// locale the sandbox might have. Built in place: the input may be large.
// `globals_bytes` is set to the size of the globals' part.
std::string sandbox_stdin(const ExecPayload& payload, std::size_t& globals_bytes) {
  std::string text = "[";
  json::append_ascii(text, json::Value(payload.code));
  text += ',';
  const std::size_t globals_start = text.size();
  json::append_ascii(text, payload.globals);
  globals_bytes = text.size() - globals_start;
  text += ']';
  return text;
}

// What the sandbox needs to send back the input globals unchanged: their
// size as the wrapper's json.dump spells them (ASCII, with ", " and ": "
// separators), and their values and keys as json::ParseBudget counts them.
struct GlobalsShape {
  std::size_t dumped_bytes = 0;
  std::size_t values = 0;
};

// `compact_bytes`: the globals' size in the compact ASCII spelling.
GlobalsShape shape_of(const json::Value& globals, std::size_t compact_bytes) {
  GlobalsShape shape;
  shape.dumped_bytes = compact_bytes;
  std::vector<const json::Value*> pending{&globals};
  while (!pending.empty()) {
    const json::Value* current = pending.back();
    pending.pop_back();
    ++shape.values;
    if (current->is_array() && !current->as_array().empty()) {
      shape.dumped_bytes += current->as_array().size() - 1;  // ", "
      for (const json::Value& item : current->as_array()) pending.push_back(&item);
    } else if (current->is_object() && !current->as_object().empty()) {
      shape.values += current->as_object().size();
      shape.dumped_bytes += 2 * current->as_object().size() - 1;  // ": " and ", "
      for (const json::Member& member : current->as_object()) pending.push_back(&member.second);
    }
  }
  return shape;
}

// What the run measured, whatever its outcome.
void record_measurements(const RunResult& run, ExecutionSummary& summary) {
  summary.wall_seconds = run.wall_seconds;
  summary.applied_layers = run.applied_layers;
  summary.landlock_abi = run.landlock_abi;
  summary.stdout_bytes = run.stdout_stream.total_bytes;
  summary.stderr_bytes = run.stderr_stream.total_bytes;
  summary.stdout_truncated = run.stdout_stream.truncated();
  summary.stderr_truncated = run.stderr_stream.truncated();
  summary.timed_out = run.outcome == RunResult::Outcome::kTimedOut;
  summary.cpu_limit_killed = run.cpu_limit_killed;
}

// The body of a run whose interpreter ran: an emsg from its status and
// output, or the globals it sent back.
void answer_from_output(const ExecPayload& payload, const RunResult& run,
                        std::size_t stdout_cap_bytes, std::size_t max_values,
                        ExecutionSummary& summary) {
  summary.telemetry_status = kExecutedError;
  if (run.status != 0) {
    // The input-size allowance of the stdout cap is for returning globals;
    // the emsg keeps the configured cap only (its repr can be 4x the bytes).
    std::string_view shown_stdout = run.stdout_stream.data;
    shown_stdout = shown_stdout.substr(0, stdout_cap_bytes);
    summary.body = error_response(
        payload.globals, jailed_code_emsg(shown_stdout, run.stderr_stream.data, run.status));
    return;
  }
  std::optional<json::Object> globals;
  if (!run.stdout_stream.truncated()) {
    globals = parse_sandbox_globals(run.stdout_stream.data, max_values);
  }
  if (!globals) {
    summary.body = error_response(payload.globals, kCorruptedStdoutEmsg);
    return;
  }
  summary.body = success_response(payload.globals, *globals);
  summary.telemetry_status = kExecutedSuccess;
}

}  // namespace

Executor::Executor(Config config, int slot) : config_(std::move(config)), slot_(slot) {
  confine_ = !sabotage_requested();
  if (slot < 0 || slot > 255)
    throw ConfigError("worker slot out of range: " + std::to_string(slot));
  if (geteuid() == 0) {
    // One uid per worker slot: concurrent runs cannot touch each other even
    // outside their namespaces, and RLIMIT_NPROC counts one run only.
    sandbox_uid_ = config_.sandbox_uid_base + static_cast<uid_t>(slot);
    sandbox_gid_ = config_.sandbox_uid_base + static_cast<gid_t>(slot);
  } else {
    user_namespace_ = true;  // an unprivileged service gets its namespaces through one
  }

  char resolved[PATH_MAX];
  if (realpath(config_.python_bin.c_str(), resolved) == nullptr) {
    throw ConfigError("CODE_JAIL.python_bin: " + config_.python_bin + " cannot be resolved: " +
                      std::strerror(errno) + " (deploy/setup-host creates the sandbox venv)");
  }
  interpreter_realpath_ = resolved;
  interpreter_roots_ = {"/usr"};
  for (const std::string& bin : {config_.python_bin, interpreter_realpath_}) {
    // <prefix>/bin/python: the prefix holds the venv config or the stdlib.
    std::string prefix = parent_dir(parent_dir(bin));
    if (!is_within(prefix, "/usr") && prefix != "/" &&
        std::find(interpreter_roots_.begin(), interpreter_roots_.end(), prefix) ==
            interpreter_roots_.end()) {
      interpreter_roots_.push_back(prefix);
    }
  }
  for (const std::string& root : interpreter_roots_) {
    // The sandbox's /tmp is a tmpfs of its own, hiding whatever the host has
    // there: an interpreter under /tmp would not exist inside.
    if (is_within(root, "/tmp")) {
      throw ConfigError("CODE_JAIL.python_bin: " + config_.python_bin + " lies under /tmp (" +
                        root +
                        "), which each sandbox replaces with a tmpfs of its own; put the "
                        "interpreter or venv elsewhere, e.g. under /opt");
    }
  }
  if (!confine_) return;

  staging_root_ = prepare_staging_root(config_.sandbox_root);
  exec_lock_ = find_exec_lock();
  etc_files_ = interpreter_etc_files();
  thp_files_ = thp_settings_files();
  try {
    seccomp_ = build_sandbox_seccomp();
  } catch (const std::exception& e) {
    throw ConfigError(std::string("cannot build the seccomp filter: ") + e.what());
  }
  cgroups_ = CgroupManager::detect("codejail-service");
  if (apparmor_enabled(&apparmor_reason_)) {
    if (apparmor_profile_loaded(kSandboxProfile, &apparmor_reason_)) {
      apparmor_profile_ = kSandboxProfile;
    }
  }
  if (!cgroups_.available() && config_.limits.vmem_bytes == 0) {
    // Nothing would bound a run's memory: say so loudly (docs/security.md).
    log::warning(
        "no memory bound per execution: cgroups are not available and "
        "CODE_JAIL.limits.VMEM is 0; set VMEM or give the service a cgroup",
        {{"cgroups", cgroups_.description()}});
  }
  if (config_.require_apparmor && apparmor_profile_.empty()) {
    log::error("AppArmor is required but unavailable", {{"reason", apparmor_reason_}});
  }
  landlock_abi_ = landlock_abi_version();
}

ChildPlan Executor::plan_run(const std::string& host_dir, const std::string& view_dir,
                             const Limits& limits) const {
  ChildPlan plan;
  plan.python_bin = config_.python_bin;
  plan.argv = {config_.python_bin, "-E", "-B", "jailed_code"};
  plan.env = sandbox_environment(view_dir);
  plan.cwd = confine_ ? view_dir : host_dir;
  plan.rlimits = plan_rlimits(limits);
  plan.identity = IdentityPlan{sandbox_uid_, sandbox_gid_};
  plan.confine = confine_;
  if (confine_) {
    plan.clone_flags = CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS |
                       CLONE_NEWCGROUP | (user_namespace_ ? CLONE_NEWUSER : 0);
    MountViewInputs mounts;
    mounts.staging_root = staging_root_;
    mounts.read_only_dirs = interpreter_roots_;
    mounts.read_only_dirs.push_back("/etc");  // present so that denials read EACCES
    mounts.read_only_files = {exec_lock_};
    mounts.read_only_files.insert(mounts.read_only_files.end(), thp_files_.begin(),
                                  thp_files_.end());
    mounts.host_sandbox_dir = host_dir;
    mounts.view_sandbox_dir = view_dir;
    mounts.tmp_size_bytes = config_.tmp_size_bytes;
    mounts.tmp_uid = sandbox_uid_.value_or(getuid());
    mounts.tmp_gid = sandbox_gid_.value_or(getgid());
    plan.mounts = plan_mount_view(mounts);

    LandlockLayout layout;
    layout.read_exec_roots = interpreter_roots_;
    layout.interpreter = interpreter_realpath_;
    layout.read_only_extras = etc_files_;
    layout.read_only_extras.push_back(exec_lock_);
    layout.read_only_extras.insert(layout.read_only_extras.end(), thp_files_.begin(),
                                   thp_files_.end());
    // The preloaded library forbids every exec once the interpreter runs
    // (and removes both variables from the environment the code sees).
    plan.env.push_back("LD_PRELOAD=" + exec_lock_);
    // malloc: one arena for all threads (the GIL serializes them anyway), so
    // a thread costs its stack, not a 64 MiB arena reservation, under VMEM;
    // and transparent huge pages for the heap where the host's THP mode
    // allows ("madvise" or "always", read from the files above), so that code
    // touching hundreds of MiB takes ~50x fewer page faults: on a VM with
    // slow faults, filling VMEM's 512 MiB then ends in MemoryError in about a
    // second instead of running into REALTIME (docs/security.md 3.3).
    plan.env.push_back(thp_files_.empty()
                           ? "GLIBC_TUNABLES=glibc.malloc.arena_max=1"
                           : "GLIBC_TUNABLES=glibc.malloc.arena_max=1:glibc.malloc.hugetlb=1");
    plan.exec_lock = exec_lock_;
    layout.devices = {"/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom"};
    layout.sandbox_dir = view_dir;
    layout.sandbox_tmp = view_dir + "/tmp";
    plan.landlock = plan_landlock(layout);
    plan.seccomp = seccomp_;
    plan.apparmor_profile = apparmor_profile_;
  }
  plan.finalize();
  return plan;
}

std::vector<LayerState> Executor::layer_states() const {
  auto off = [&](const char* name) {
    return LayerState{name, false, "off: confinement sabotaged (test build)"};
  };
  std::vector<LayerState> states;
  if (!confine_) {
    for (const char* name : {"namespaces", "mount view", "tmpfs tmp/", "capabilities", "landlock",
                             "seccomp", "exec lock", "cgroups", "apparmor"}) {
      states.push_back(off(name));
    }
    states.push_back({"uid", sandbox_uid_.has_value(), "separate uid only"});
    states.push_back({"rlimits", true, "CPU, AS, FSIZE, NPROC, NOFILE, STACK, CORE"});
    return states;
  }
  states.push_back(
      {"namespaces", true,
       std::string(user_namespace_ ? "user, " : "") + "pid, mount, net, ipc, uts, cgroup"});
  states.push_back({"mount view", true, "read-only minimal root, /tmp/codejail-XXXXXXXX"});
  states.push_back({"tmpfs tmp/", true, std::to_string(config_.tmp_size_bytes) + " bytes"});
  states.push_back({"uid", true,
                    sandbox_uid_ ? "uid " + std::to_string(*sandbox_uid_) + " (slot " +
                                       std::to_string(slot_) + ")"
                                 : "service uid " + std::to_string(getuid()) +
                                       " inside a user namespace (service runs unprivileged)"});
  states.push_back({"capabilities", true, "all dropped, no_new_privs"});
  states.push_back({"rlimits", true, "CPU, AS, FSIZE, NPROC, NOFILE, STACK, CORE"});
  if (landlock_abi_ > 0) {
    std::string detail = "ABI " + std::to_string(landlock_abi_);
    LandlockPlan probe = plan_landlock(LandlockLayout{});
    for (const auto& missing : probe.degraded) detail += "; " + missing;
    states.push_back({"landlock", true, detail});
  } else {
    states.push_back({"landlock", false, "not available: the kernel has no Landlock"});
  }
  states.push_back(
      {"seccomp", true, std::to_string(seccomp_.instructions.size()) + " BPF instructions"});
  states.push_back({"exec lock", true, "no exec once the interpreter runs (" + exec_lock_ + ")"});
  states.push_back({"cgroups", cgroups_.available(), cgroups_.description()});
  const bool memory_bounded = cgroups_.available() || config_.limits.vmem_bytes > 0;
  states.push_back({"memory bound", memory_bounded,
                    cgroups_.available() ? "cgroup memory cap " +
                                               std::to_string(config_.memory_limit_bytes) + " bytes"
                    : memory_bounded ? "VMEM " + std::to_string(config_.limits.vmem_bytes) +
                                           " bytes (address space only; no cgroup)"
                                     : "NONE: no cgroup and VMEM is 0"});
  states.push_back({"cpu bound", cgroups_.cpu_accounted(),
                    cgroups_.cpu_accounted()
                        ? "CPU across all of a run's processes, equal share per run (" +
                              cgroups_.cpu_description() + ")"
                        : "RLIMIT_CPU per process only (cgroup CPU accounting " +
                              cgroups_.cpu_description() + ")"});
  states.push_back({"apparmor", !apparmor_profile_.empty(),
                    apparmor_profile_.empty() ? "not available: " + apparmor_reason_
                                              : "profile " + apparmor_profile_});
  return states;
}

void Executor::finish_cleanup() {
  pending_cgroup_.reset();  // kills what is left (nothing, normally) and removes the dirs
  if (pending_dir_) {
    std::string cleanup_error;
    if (!pending_dir_->remove(cleanup_error)) {
      log::error("sandbox dir cleanup failed",
                 {{"dir", pending_dir_->host_path()}, {"error", cleanup_error}});
    }
    pending_dir_.reset();
  }
}

ExecutionSummary Executor::execute(const ExecPayload& payload,
                                   const std::vector<UploadedFile>& files) {
  return execute(
      payload, files,
      resolve_limits(config_.limits, config_.limit_overrides, payload.limit_overrides_context));
}

Executor::PreparedSandbox Executor::prepare_sandbox(const std::vector<std::string>& python_path,
                                                    const std::vector<UploadedFile>& files,
                                                    const Limits& limits) {
  std::optional<Ownership> owner;
  if (sandbox_uid_) owner = Ownership{*sandbox_uid_, *sandbox_gid_};
  SandboxDir dir = SandboxDir::create(config_.sandbox_root, owner);
  dir.create_file("jailed_code", wrapper_source(python_path));
  for (const auto& file : files) dir.create_file(file.name, file.content);
  dir.seal();
  ChildPlan plan = plan_run(dir.host_path(), "/tmp/" + dir.name(), limits);

  // The cgroup layer, where the host has one: fail closed if it breaks.
  std::unique_ptr<RunCgroup> cgroup;
  if (confine_ && cgroups_.available()) {
    std::string error;
    CgroupLimits caps{config_.memory_limit_bytes, limits.nproc > 0 ? limits.nproc + 1 : 1024};
    cgroup = cgroups_.create_run(dir.name(), caps, error);
    if (!cgroup) throw std::runtime_error("cannot create the run's cgroup: " + error);
  }
  return PreparedSandbox{std::move(dir), std::move(cgroup), std::move(plan)};
}

void Executor::prestart(const std::vector<std::string>& python_path, const Limits& limits) {
  if (warm_) discard(*warm_);
  finish_cleanup();  // the last run's dirs go before a new one is made
  try {
    PreparedSandbox prepared = prepare_sandbox(python_path, {}, limits);
    RunOptions options;
    options.cgroup = prepared.cgroup.get();
    std::string failure;
    std::optional<StartedSandbox> started = start_sandboxed(prepared.plan, options, failure);
    if (!started) {
      log::warning("cannot prestart a sandbox; the next run starts cold", {{"error", failure}});
      return;
    }
    warm_.emplace(WarmSandbox{std::move(prepared.dir), std::move(prepared.cgroup),
                              std::move(*started), python_path, limits});
  } catch (const std::exception& e) {
    log::warning("cannot prestart a sandbox; the next run starts cold",
                 {{"error", std::string(e.what())}});
  }
}

void Executor::prestart_next() {
  if (!config_.warm_start || warm_) return;
  prestart(last_python_path_, last_limits_.value_or(resolve_limits(
                                  config_.limits, config_.limit_overrides, std::nullopt)));
}

std::optional<Executor::WarmSandbox> Executor::take_prestarted(
    const std::vector<std::string>& python_path, const Limits& limits) {
  if (!warm_) return std::nullopt;
  if (warm_->python_path != python_path || !(warm_->limits == limits) || !warm_->sandbox.alive()) {
    // Started for another request (or killed while it waited): a cold run
    // is exactly what this request needs.
    discard(*warm_);
    return std::nullopt;
  }
  std::optional<WarmSandbox> taken(std::move(*warm_));
  warm_.reset();
  return taken;
}

void Executor::discard(WarmSandbox& warm) {
  warm.sandbox.kill();
  finish_cleanup();
  pending_dir_.emplace(std::move(warm.dir));
  pending_cgroup_ = std::move(warm.cgroup);
  if (warm_ && &warm == &*warm_) warm_.reset();
  finish_cleanup();
}

Executor::SandboxRun Executor::run_in_sandbox(const ExecPayload& payload,
                                              const std::vector<UploadedFile>& files,
                                              const Limits& limits) {
  std::size_t globals_bytes = 0;
  const std::string stdin_data = sandbox_stdin(payload, globals_bytes);
  const GlobalsShape output_allowance = shape_of(payload.globals, globals_bytes);
  RunOptions options;
  // REALTIME 0 means "no limit" to the reference; a worker must still
  // come back eventually, so a ceiling applies (docs/security.md).
  options.realtime_seconds =
      limits.realtime_seconds > 0 ? limits.realtime_seconds : kRealtimeCeilingSeconds;
  // The sandbox may always send back the globals it was given, plus the cap
  // (the code's size buys nothing: it does not come back).
  options.stdout_cap = config_.stdout_cap_bytes + output_allowance.dumped_bytes;
  options.stderr_cap = config_.stderr_cap_bytes;
  // CPU bounds the run's processes together where the cgroup accounts CPU;
  // RLIMIT_CPU still bounds each one (and alone, without cgroups).
  options.cpu_seconds = static_cast<double>(limits.cpu_seconds);
  SandboxRun sandboxed;
  // The output is json.dump of the resulting globals: the input's values
  // plus what fits in the cap, where json.dump spends at least three bytes
  // on a new value ("0, "; only an opening bracket, "[", takes less, and
  // nesting is at most kMaxNestingDepth). So parsing it costs the worker at
  // most what the input's parse did plus a fixed amount, however the code
  // spends its output bytes.
  sandboxed.max_output_values =
      output_allowance.values + config_.stdout_cap_bytes / 3 + json::kMaxNestingDepth;

  std::optional<SandboxDir> dir;
  std::unique_ptr<RunCgroup> cgroup;
  if (std::optional<WarmSandbox> warm = take_prestarted(payload.python_path, limits)) {
    // Its interpreter waits for stdin, so no course code has run: the files
    // may still come, and the clock starts now.
    if (!files.empty()) {
      warm->dir.unseal();
      for (const auto& file : files) warm->dir.create_file(file.name, file.content);
      warm->dir.seal();
    }
    warm->dir.stamp_now();  // as a cold run's dir: made when the request came
    warm->sandbox.restart_clock();
    options.cgroup = warm->cgroup.get();
    options.end_on_refused_stdin = true;
    sandboxed.run = finish_sandboxed(warm->sandbox, stdin_data, options);
    sandboxed.warm = true;
    if (sandboxed.run.stdin_refused) {
      // Killed after take_prestarted() saw it alive and before it read a
      // byte: the request has not run at all, so it runs cold instead.
      log::warning("a prestarted sandbox died before its request; running the request cold");
      discard(*warm);
      sandboxed.warm = false;
      options.end_on_refused_stdin = false;
    } else {
      dir.emplace(std::move(warm->dir));
      cgroup = std::move(warm->cgroup);
    }
  }
  if (!sandboxed.warm) {
    PreparedSandbox prepared = prepare_sandbox(payload.python_path, files, limits);
    options.cgroup = prepared.cgroup.get();
    sandboxed.run = run_sandboxed(prepared.plan, stdin_data, options);
    dir.emplace(std::move(prepared.dir));
    cgroup = std::move(prepared.cgroup);
  }
  if (cgroup) sandboxed.hit_memory_limit = cgroup->hit_memory_limit();

  // The run ended with every process of it killed and waited for (and its
  // cgroup emptied): only directories are left to remove.
  pending_dir_.emplace(std::move(*dir));
  pending_cgroup_ = std::move(cgroup);
  if (!defer_cleanup_) finish_cleanup();
  return sandboxed;
}

ExecutionSummary Executor::execute(const ExecPayload& payload,
                                   const std::vector<UploadedFile>& files, const Limits& limits) {
  finish_cleanup();  // the previous run's, if the caller has not yet
  last_python_path_ = payload.python_path;
  last_limits_ = limits;
  if (auto entry = entry_without_upload(payload, files)) {
    return machinery_failure(payload, limits,
                             "python_path entry '" + *entry + "' names no uploaded file");
  }
  SandboxRun sandboxed;
  try {
    sandboxed = run_in_sandbox(payload, files, limits);
  } catch (const std::exception& e) {
    return machinery_failure(payload, limits, e.what());
  }
  const RunResult& run = sandboxed.run;
  if (run.stdout_stream.truncated() || run.stderr_stream.truncated()) {
    log::warning(
        "sandbox output truncated",
        {{"stdout_bytes", log::number(static_cast<long long>(run.stdout_stream.total_bytes))},
         {"stderr_bytes", log::number(static_cast<long long>(run.stderr_stream.total_bytes))},
         {"stdout_cap", log::number(static_cast<long long>(config_.stdout_cap_bytes))},
         {"stderr_cap", log::number(static_cast<long long>(config_.stderr_cap_bytes))}});
  }
  if (run.outcome == RunResult::Outcome::kSetupFailed) {
    ExecutionSummary failed = machinery_failure(payload, limits, run.failure);
    failed.wall_seconds = run.wall_seconds;
    failed.hit_memory_limit = sandboxed.hit_memory_limit;
    return failed;
  }
  ExecutionSummary summary;
  summary.limits = limits;
  summary.hit_memory_limit = sandboxed.hit_memory_limit;
  summary.sandbox_status = run.status;
  summary.warm_start = sandboxed.warm;
  record_measurements(run, summary);
  answer_from_output(payload, run, config_.stdout_cap_bytes, sandboxed.max_output_values, summary);
  return summary;
}

}  // namespace cjs::jail
