// server/worker_pool.h: the time a request waits for a worker (queue_ms in
// the code-exec log line). A real socketpair stands in for the worker: the
// pool's side is the one the acceptor uses, the test plays the worker with
// the blocking helpers jail/worker_main.cpp uses.
#include <catch2/catch.hpp>

#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "common/worker_protocol.h"
#include "os/io.h"
#include "server/metrics.h"
#include "server/worker_pool.h"

namespace protocol = cjs::protocol;
using cjs::server::PoolOutcome;

namespace {

// Answers `requests` requests on `fd`, the first one after `first_delay`.
void fake_worker(int fd, int requests, std::chrono::milliseconds first_delay) {
  cjs::os::write_all(fd, protocol::encode(protocol::Hello{0, 1, 0}));
  for (int i = 0; i < requests; ++i) {
    protocol::FrameKind kind{};
    std::string body;
    if (!protocol::read_frame(fd, kind, body)) return;
    auto request = protocol::decode_request(body);
    if (!request) return;
    if (i == 0) std::this_thread::sleep_for(first_delay);
    protocol::Response response;
    response.id = request->id;
    response.summary.body = "{}";
    cjs::os::write_all(fd, protocol::encode(response));
  }
}

}  // namespace

TEST_CASE("queue_seconds is the wait for the only worker", "[worker_pool]") {
  int fds[2];
  REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0);
  constexpr auto kFirstRun = std::chrono::milliseconds(400);
  std::thread worker(fake_worker, fds[1], 2, kFirstRun);

  boost::asio::io_context io;
  cjs::server::Metrics metrics;
  cjs::server::WorkerPool pool(io, cjs::server::PoolSettings{}, metrics);
  pool.add_worker(fds[0]);
  std::vector<PoolOutcome> outcomes;
  for (std::uint64_t id = 1; id <= 2; ++id) {
    protocol::Request request;
    request.id = id;
    request.payload_text = "{}";
    pool.submit(std::move(request), [&](PoolOutcome outcome) {
      outcomes.push_back(std::move(outcome));
      if (outcomes.size() == 2) io.stop();
    });
  }
  io.run_for(std::chrono::seconds(30));
  worker.join();
  close(fds[1]);

  REQUIRE(outcomes.size() == 2);
  CHECK(outcomes[0].kind == PoolOutcome::kAnswered);
  CHECK(outcomes[1].kind == PoolOutcome::kAnswered);
  // The first one found the worker free (it waited only for its hello);
  // the second one waited for the first one's run.
  CHECK(outcomes[0].queue_seconds < outcomes[1].queue_seconds);
  CHECK(outcomes[1].queue_seconds >= 0.4);
  CHECK(outcomes[1].queue_seconds < 30);
}
