// server/metrics.h: the queue wait histogram and how bucket bounds are
// written (Prometheus clients write the shortest form of each bound).
#include <catch2/catch.hpp>

#include <string>

#include "server/metrics.h"

namespace {

bool has_line(const std::string& text, const std::string& line) {
  return text.find(line + "\n") != std::string::npos;
}

}  // namespace

TEST_CASE("metrics: queue waits fill the codejail_queue_wait_seconds histogram", "[metrics]") {
  cjs::server::Metrics metrics;
  metrics.observe_queue_wait(0.02);
  metrics.observe_queue_wait(3.0);
  const std::string text = metrics.render();
  INFO(text);
  CHECK(has_line(text, "# TYPE codejail_queue_wait_seconds histogram"));
  CHECK(has_line(text, R"(codejail_queue_wait_seconds_bucket{le="0.01"} 0)"));
  CHECK(has_line(text, R"(codejail_queue_wait_seconds_bucket{le="0.025"} 1)"));
  CHECK(has_line(text, R"(codejail_queue_wait_seconds_bucket{le="2.5"} 1)"));
  CHECK(has_line(text, R"(codejail_queue_wait_seconds_bucket{le="3.5"} 2)"));
  CHECK(has_line(text, R"(codejail_queue_wait_seconds_bucket{le="+Inf"} 2)"));
  CHECK(has_line(text, "codejail_queue_wait_seconds_count 2"));
}

TEST_CASE("metrics: bucket bounds are written in their shortest form", "[metrics]") {
  cjs::server::Metrics metrics;
  const std::string text = metrics.render();
  INFO(text);
  CHECK(has_line(text, R"(codejail_exec_request_duration_seconds_bucket{le="0.025"} 0)"));
  CHECK(has_line(text, R"(codejail_exec_request_duration_seconds_bucket{le="1"} 0)"));
  CHECK(text.find("00000000") == std::string::npos);
}

TEST_CASE("metrics: every labelled series is there at 0 before its first event", "[metrics]") {
  cjs::server::Metrics metrics("1.2.3");
  const std::string text = metrics.render();
  INFO(text);
  CHECK(has_line(text, R"(codejail_build_info{version="1.2.3"} 1)"));
  for (const char* status : {"executed.success", "executed.error", "overloaded"}) {
    CHECK(has_line(text,
                   std::string(R"(codejail_exec_requests_total{status=")") + status + R"("} 0)"));
  }
  for (const char* reason : {"queue_full", "queue_timeout", "client_closed", "out_of_memory"}) {
    CHECK(has_line(text, std::string(R"(codejail_rejected_total{reason=")") + reason + R"("} 0)"));
  }
  CHECK(has_line(text, R"(codejail_http_responses_total{code="503"} 0)"));
  for (const char* limit : {"realtime", "cpu", "memory", "file_size", "output"}) {
    CHECK(has_line(text,
                   std::string(R"(codejail_exec_limit_hits_total{limit=")") + limit + R"("} 0)"));
  }
  CHECK(has_line(text, R"(codejail_exec_starts_total{start="warm"} 0)"));
  CHECK(has_line(text, R"(codejail_exec_starts_total{start="cold"} 0)"));
}

TEST_CASE("metrics: a run's limits and start are counted from its summary", "[metrics]") {
  cjs::server::Metrics metrics;
  cjs::ExecutionSummary timed_out;
  timed_out.sandbox_status = -9;
  timed_out.timed_out = true;
  timed_out.warm_start = true;
  cjs::ExecutionSummary cpu_soft;  // SIGXCPU, with its output cut
  cpu_soft.sandbox_status = -24;
  cpu_soft.stdout_truncated = true;
  cjs::ExecutionSummary cpu_hard;
  cpu_hard.sandbox_status = -9;
  cpu_hard.cpu_limit_killed = true;
  cjs::ExecutionSummary oom;
  oom.sandbox_status = -9;
  oom.hit_memory_limit = true;
  cjs::ExecutionSummary fsize;
  fsize.sandbox_status = -25;
  cjs::ExecutionSummary never_ran;  // a machinery failure: nothing counted
  never_ran.timed_out = true;
  for (const auto* s : {&timed_out, &cpu_soft, &cpu_hard, &oom, &fsize, &never_ran}) {
    metrics.record_execution(*s);
  }
  const std::string text = metrics.render();
  INFO(text);
  CHECK(has_line(text, R"(codejail_exec_limit_hits_total{limit="realtime"} 1)"));
  CHECK(has_line(text, R"(codejail_exec_limit_hits_total{limit="cpu"} 2)"));
  CHECK(has_line(text, R"(codejail_exec_limit_hits_total{limit="memory"} 1)"));
  CHECK(has_line(text, R"(codejail_exec_limit_hits_total{limit="file_size"} 1)"));
  CHECK(has_line(text, R"(codejail_exec_limit_hits_total{limit="output"} 1)"));
  CHECK(has_line(text, R"(codejail_exec_starts_total{start="warm"} 1)"));
  CHECK(has_line(text, R"(codejail_exec_starts_total{start="cold"} 4)"));
}

TEST_CASE("metrics: the process_* families describe this process", "[metrics]") {
  const std::string text = cjs::server::Metrics().render();
  INFO(text);
  for (const char* name : {"process_cpu_seconds_total", "process_resident_memory_bytes",
                           "process_virtual_memory_bytes", "process_start_time_seconds",
                           "process_open_fds", "process_max_fds"}) {
    CHECK(text.find(std::string("\n") + name + " ") != std::string::npos);
  }
  CHECK(has_line(text, "# TYPE process_cpu_seconds_total counter"));
}
