// The worker pool with real workers: requests run and come back, overload is
// refused, a worker that dies is replaced, and workers recycle.
#include <catch2/catch.hpp>

#include <signal.h>

#include <algorithm>
#include <optional>

#include "worker_fixture.h"

namespace cjs::stest {
namespace {

using server::PoolOutcome;

TEST_CASE("worker pool: a request runs on a real worker and returns its globals", "[pool]") {
  WorkerFixture fixture;
  fixture.start_workers();
  PoolOutcome outcome = fixture.run(request_for("x = x + 1", R"({"x": 16})"));
  REQUIRE(outcome.kind == PoolOutcome::kAnswered);
  CHECK(outcome.response.summary.body == R"({"globals_dict":{"x":17}})");
  CHECK_FALSE(outcome.response.last);
  CHECK(fixture.pool().busy() == 0);
  CHECK(fixture.pool().workers() == 1);
}

TEST_CASE("worker pool: with every worker busy and the queue full, a request is refused",
          "[pool]") {
  FixtureOptions options;
  options.pool.queue_limit = 1;
  WorkerFixture fixture(options);
  fixture.start_workers();
  // Submitted together, before the io_context runs again: the first takes
  // the one worker, the second the one queue place, the third finds none.
  std::optional<PoolOutcome> running, queued, refused;
  fixture.pool().submit(request_for("a = 1"), [&](PoolOutcome o) { running = std::move(o); });
  fixture.pool().submit(request_for("b = 2"), [&](PoolOutcome o) { queued = std::move(o); });
  CHECK(fixture.pool().busy() == 1);
  CHECK(fixture.pool().queued() == 1);
  fixture.pool().submit(request_for("c = 3"), [&](PoolOutcome o) { refused = std::move(o); });
  REQUIRE(fixture.run_until([&] { return running && queued && refused; }));
  CHECK(refused->kind == PoolOutcome::kQueueFull);
  // The refusal costs the others nothing.
  REQUIRE(running->kind == PoolOutcome::kAnswered);
  CHECK(running->response.summary.body == R"({"globals_dict":{"a":1}})");
  REQUIRE(queued->kind == PoolOutcome::kAnswered);
  CHECK(queued->response.summary.body == R"({"globals_dict":{"b":2}})");
}

TEST_CASE("worker pool: a worker that dies mid-request is replaced and the pool keeps serving",
          "[pool]") {
  WorkerFixture fixture;
  fixture.start_workers();
  const std::vector<pid_t> before = fixture.worker_pids();
  REQUIRE(before.size() == 1);

  protocol::Request sleeper = request_for("import time\ntime.sleep(15)");
  const std::string payload = sleeper.payload_text;
  std::optional<PoolOutcome> outcome;
  fixture.pool().submit(std::move(sleeper), [&](PoolOutcome o) { outcome = std::move(o); });
  REQUIRE(fixture.pool().busy() == 1);
  REQUIRE(::kill(before.front(), SIGKILL) == 0);
  REQUIRE(fixture.run_until([&] { return outcome.has_value(); }));
  CHECK(outcome->kind == PoolOutcome::kWorkerDied);
  // The payload comes back for the fallback answer (api.md 9).
  CHECK(outcome->payload_text == payload);

  INFO("waiting for the replacement worker");
  REQUIRE(fixture.run_until([&] { return fixture.pool().workers() == 1; }));
  const std::vector<pid_t> after = fixture.worker_pids();
  REQUIRE(after.size() == 1);
  CHECK(after.front() != before.front());
  PoolOutcome next = fixture.run(request_for("y = 2 * 21"));
  REQUIRE(next.kind == PoolOutcome::kAnswered);
  CHECK(next.response.summary.body == R"({"globals_dict":{"y":42}})");
}

TEST_CASE("worker pool: a worker recycles after max_requests and its successor serves", "[pool]") {
  FixtureOptions options;
  options.max_requests = 2;
  WorkerFixture fixture(options);
  fixture.start_workers();
  const std::vector<pid_t> first = fixture.worker_pids();
  REQUIRE(first.size() == 1);

  PoolOutcome one = fixture.run(request_for("n = 1"));
  REQUIRE(one.kind == PoolOutcome::kAnswered);
  CHECK_FALSE(one.response.last);
  PoolOutcome two = fixture.run(request_for("n = 2"));
  REQUIRE(two.kind == PoolOutcome::kAnswered);
  CHECK(two.response.last);  // its second answer is its last

  // A third request waits for the successor rather than failing.
  PoolOutcome three = fixture.run(request_for("n = 3"));
  REQUIRE(three.kind == PoolOutcome::kAnswered);
  CHECK(three.response.summary.body == R"({"globals_dict":{"n":3}})");
  const std::vector<pid_t> second = fixture.worker_pids();
  REQUIRE(second.size() == 1);
  CHECK(second.front() != first.front());
}

}  // namespace
}  // namespace cjs::stest
