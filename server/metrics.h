// Counters and gauges of the acceptor, rendered in Prometheus text format
// for GET /metrics. Single-threaded (the acceptor's io_context).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/execution_summary.h"

namespace cjs::server {

class Metrics {
 public:
  // Every labelled series this service can produce starts at 0, so that
  // rate() and alerts see it before its first event. `version` goes into
  // codejail_build_info.
  explicit Metrics(std::string version = "unknown");

  // One code-exec request answered, by its codejail.exec.status value
  // (api.md section 8) and its total latency.
  void record_request(const std::string& exec_status, double seconds);
  void record_http_status(int status) { ++http_responses_[status]; }
  void record_worker_recycle() { ++worker_recycles_; }
  void record_worker_crash() { ++worker_crashes_; }
  void record_rejected(const std::string& reason) { ++rejected_[reason]; }
  // What one run met: the limits that ended or cut it, and how it started.
  void record_execution(const ExecutionSummary& summary);
  // How long a request waited for a worker (however its wait ended).
  void observe_queue_wait(double seconds);

  void set_queue_depth(std::size_t depth) { queue_depth_ = depth; }
  void set_busy_workers(std::size_t busy) { busy_workers_ = busy; }
  void set_workers(std::size_t workers) { workers_ = workers; }
  void set_probe(const std::string& name, bool passed) { probes_[name] = passed; }

  std::string render() const;

 private:
  static constexpr std::array<double, 12> kBuckets = {0.01, 0.025, 0.05, 0.1,  0.25, 0.5,
                                                      1.0,  2.5,   5.0,  10.0, 30.0, 60.0};
  std::map<std::string, std::uint64_t> exec_status_;
  std::map<int, std::uint64_t> http_responses_;
  std::map<std::string, std::uint64_t> rejected_;
  std::array<std::uint64_t, kBuckets.size()> bucket_counts_{};
  std::uint64_t latency_count_ = 0;
  double latency_sum_ = 0;
  // Finer at the low end: most waits are a few milliseconds, and what
  // matters is how close the slow ones come to edxapp's 3.5 s.
  static constexpr std::array<double, 11> kQueueWaitBuckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                               0.5,   1.0,  2.5,   3.5,  5.0};
  std::array<std::uint64_t, kQueueWaitBuckets.size()> queue_wait_counts_{};
  std::uint64_t queue_wait_count_ = 0;
  double queue_wait_sum_ = 0;
  std::uint64_t worker_recycles_ = 0, worker_crashes_ = 0;
  std::size_t queue_depth_ = 0, busy_workers_ = 0, workers_ = 0;
  std::map<std::string, bool> probes_;
  std::map<std::string, std::uint64_t> limit_hits_;  // by limit: realtime, cpu, ...
  std::map<std::string, std::uint64_t> starts_;      // by start: warm, cold
  std::string version_;
};

}  // namespace cjs::server
