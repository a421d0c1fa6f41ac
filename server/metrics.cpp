#include "server/metrics.h"

#include <cstdio>
#include <cstdlib>

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

}  // namespace

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
  return out;
}

}  // namespace cjs::server
