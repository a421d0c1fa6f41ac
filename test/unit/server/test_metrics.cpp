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
