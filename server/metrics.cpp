#include "server/metrics.h"

#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <optional>

#include "os/process_stats.h"

namespace cjs::server {
namespace {

std::string number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

// A bucket bound as Prometheus clients write it: the shortest text that
// reads back as the same double ("0.025", not "0.025000000000000001").
std::string bound(double v) {
  char buf[64];
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof buf, "%.*g", precision, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  return buf;
}

// Label values are ours (statuses, probe names), but escape them anyway.
std::string label(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

// Each series starts at 0 (see the constructor): what edxapp's requests and
// the service's refusals can be.
constexpr const char* kExecStatuses[] = {"executed.success",
                                         "executed.error",
                                         "overloaded",
                                         "client_closed",
                                         "disabled.feature_switch",
                                         "disabled.safety_checks_failed",
                                         "invalid.payload.missing",
                                         "invalid.payload.bad_json",
                                         "invalid.payload.schema_mismatch",
                                         "invalid.python_path",
                                         "invalid.files",
                                         "invalid.unsafely"};
constexpr const char* kRejectReasons[] = {
    "queue_full",    "queue_timeout",          "client_closed",
    "out_of_memory", "unsupported_media_type", "malformed_body"};
constexpr int kHttpCodes[] = {200, 400, 404, 405, 413, 415, 500, 503};
constexpr const char* kLimits[] = {"realtime", "cpu", "memory", "file_size", "output"};

void counter_family(std::string& out, const char* name, const char* help, const char* label_name,
                    const std::map<std::string, std::uint64_t>& values) {
  out += std::string("# HELP ") + name + " " + help + "\n";
  out += std::string("# TYPE ") + name + " counter\n";
  for (const auto& [value, count] : values) {
    out += std::string(name) + "{" + label_name + "=\"" + label(value) + "\"} " +
           std::to_string(count) + "\n";
  }
}

void gauge(std::string& out, const char* name, const char* type, const char* help,
           const std::string& value) {
  out += std::string("# HELP ") + name + " " + help + "\n";
  out += std::string("# TYPE ") + name + " " + type + "\n";
  out += std::string(name) + " " + value + "\n";
}

// The process_* families of the Prometheus client libraries, for the
// acceptor (the process that answers /metrics).
void process_metrics(std::string& out) {
  const std::optional<os::ProcessStats> stats = os::self_process_stats();
  if (!stats) return;
  struct Family {
    const char* name;
    const char* type;
    const char* help;
    std::string value;
  };
  const Family families[] = {
      {"process_cpu_seconds_total", "counter", "Total user and system CPU time, seconds.",
       number(stats->cpu_seconds)},
      {"process_resident_memory_bytes", "gauge", "Resident memory size, bytes.",
       std::to_string(stats->rss_bytes)},
      {"process_virtual_memory_bytes", "gauge", "Virtual memory size, bytes.",
       std::to_string(stats->vsize_bytes)},
      {"process_start_time_seconds", "gauge", "Start time since the Unix epoch, seconds.",
       number(stats->start_time_seconds)},
      {"process_open_fds", "gauge", "Open file descriptors.", std::to_string(stats->open_fds)},
      {"process_max_fds", "gauge", "Maximum number of open file descriptors.",
       std::to_string(stats->max_fds)},
  };
  for (const Family& family : families) {
    gauge(out, family.name, family.type, family.help, family.value);
  }
}

}  // namespace

Metrics::Metrics(std::string version) : version_(std::move(version)) {
  for (const char* status : kExecStatuses) exec_status_[status] = 0;
  for (const char* reason : kRejectReasons) rejected_[reason] = 0;
  for (int code : kHttpCodes) http_responses_[code] = 0;
  for (const char* limit : kLimits) limit_hits_[limit] = 0;
  starts_["warm"] = starts_["cold"] = 0;
}

void Metrics::record_execution(const ExecutionSummary& summary) {
  if (!summary.sandbox_status) return;  // the interpreter never ran
  ++starts_[summary.warm_start ? "warm" : "cold"];
  const int status = *summary.sandbox_status;
  if (summary.timed_out) ++limit_hits_["realtime"];
  if (summary.cpu_limit_killed || status == -SIGXCPU) ++limit_hits_["cpu"];
  if (summary.hit_memory_limit) ++limit_hits_["memory"];
  if (status == -SIGXFSZ) ++limit_hits_["file_size"];
  if (summary.stdout_truncated || summary.stderr_truncated) ++limit_hits_["output"];
}

void Metrics::record_request(const std::string& exec_status, double seconds) {
  ++exec_status_[exec_status];
  ++latency_count_;
  latency_sum_ += seconds;
  for (std::size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i]) ++bucket_counts_[i];
  }
}

void Metrics::observe_queue_wait(double seconds) {
  ++queue_wait_count_;
  queue_wait_sum_ += seconds;
  for (std::size_t i = 0; i < kQueueWaitBuckets.size(); ++i) {
    if (seconds <= kQueueWaitBuckets[i]) ++queue_wait_counts_[i];
  }
}

std::string Metrics::render() const {
  std::string out;
  out += "# HELP codejail_build_info The running version (always 1).\n";
  out += "# TYPE codejail_build_info gauge\n";
  out += "codejail_build_info{version=\"" + label(version_) + "\"} 1\n";
  out += "# HELP codejail_exec_requests_total Code-exec requests by codejail.exec.status.\n";
  out += "# TYPE codejail_exec_requests_total counter\n";
  for (const auto& [status, count] : exec_status_) {
    out += "codejail_exec_requests_total{status=\"" + label(status) + "\"} " +
           std::to_string(count) + "\n";
  }
  out += "# HELP codejail_exec_request_duration_seconds Code-exec request latency.\n";
  out += "# TYPE codejail_exec_request_duration_seconds histogram\n";
  for (std::size_t i = 0; i < kBuckets.size(); ++i) {
    out += "codejail_exec_request_duration_seconds_bucket{le=\"" + bound(kBuckets[i]) + "\"} " +
           std::to_string(bucket_counts_[i]) + "\n";
  }
  out += "codejail_exec_request_duration_seconds_bucket{le=\"+Inf\"} " +
         std::to_string(latency_count_) + "\n";
  out += "codejail_exec_request_duration_seconds_sum " + number(latency_sum_) + "\n";
  out += "codejail_exec_request_duration_seconds_count " + std::to_string(latency_count_) + "\n";
  out += "# HELP codejail_queue_wait_seconds Time code-exec requests waited for a worker.\n";
  out += "# TYPE codejail_queue_wait_seconds histogram\n";
  for (std::size_t i = 0; i < kQueueWaitBuckets.size(); ++i) {
    out += "codejail_queue_wait_seconds_bucket{le=\"" + bound(kQueueWaitBuckets[i]) + "\"} " +
           std::to_string(queue_wait_counts_[i]) + "\n";
  }
  out +=
      "codejail_queue_wait_seconds_bucket{le=\"+Inf\"} " + std::to_string(queue_wait_count_) + "\n";
  out += "codejail_queue_wait_seconds_sum " + number(queue_wait_sum_) + "\n";
  out += "codejail_queue_wait_seconds_count " + std::to_string(queue_wait_count_) + "\n";
  out += "# HELP codejail_http_responses_total HTTP responses by status code.\n";
  out += "# TYPE codejail_http_responses_total counter\n";
  for (const auto& [status, count] : http_responses_) {
    out += "codejail_http_responses_total{code=\"" + std::to_string(status) + "\"} " +
           std::to_string(count) + "\n";
  }
  out += "# HELP codejail_rejected_total Requests refused before execution, by reason.\n";
  out += "# TYPE codejail_rejected_total counter\n";
  for (const auto& [reason, count] : rejected_) {
    out +=
        "codejail_rejected_total{reason=\"" + label(reason) + "\"} " + std::to_string(count) + "\n";
  }
  out += "# HELP codejail_queue_depth Requests waiting for a worker.\n";
  out += "# TYPE codejail_queue_depth gauge\ncodejail_queue_depth " + std::to_string(queue_depth_) +
         "\n";
  out += "# HELP codejail_workers_busy Workers executing a request.\n";
  out += "# TYPE codejail_workers_busy gauge\ncodejail_workers_busy " +
         std::to_string(busy_workers_) + "\n";
  out += "# HELP codejail_workers Workers connected.\n";
  out += "# TYPE codejail_workers gauge\ncodejail_workers " + std::to_string(workers_) + "\n";
  out += "# HELP codejail_worker_recycles_total Workers replaced after max-requests.\n";
  out += "# TYPE codejail_worker_recycles_total counter\ncodejail_worker_recycles_total " +
         std::to_string(worker_recycles_) + "\n";
  out += "# HELP codejail_worker_crashes_total Workers that died unexpectedly.\n";
  out += "# TYPE codejail_worker_crashes_total counter\ncodejail_worker_crashes_total " +
         std::to_string(worker_crashes_) + "\n";
  out += "# HELP codejail_startup_probe_passed Startup confinement probes (1 passed, 0 failed).\n";
  out += "# TYPE codejail_startup_probe_passed gauge\n";
  for (const auto& [name, passed] : probes_) {
    out += "codejail_startup_probe_passed{probe=\"" + label(name) + "\"} " + (passed ? "1" : "0") +
           "\n";
  }
  counter_family(out, "codejail_exec_limit_hits_total",
                 "Runs ended or cut by a limit: realtime (REALTIME), cpu (CPU: SIGXCPU or the "
                 "hard limit), memory (the run's cgroup cap), file_size (FSIZE), output (the "
                 "stdout/stderr caps).",
                 "limit", limit_hits_);
  counter_family(out, "codejail_exec_starts_total",
                 "Runs by how their interpreter started: warm (prestarted) or cold.", "start",
                 starts_);
  process_metrics(out);
  return out;
}

}  // namespace cjs::server
