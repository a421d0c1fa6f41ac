// The worker protocol on the wire: real frames between the acceptor's side
// and a real worker; malformed frames from a fake peer (a socketpair the
// test writes garbage into) are refused without harming the pool.
#include <catch2/catch.hpp>

#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <optional>

#include "os/io.h"
#include "test/support/test_support.h"
#include "worker_fixture.h"

namespace cjs::stest {
namespace {

using server::PoolOutcome;

// Blocking reads give up after this long instead of hanging the suite.
void set_read_timeout(int fd, int seconds) {
  timeval tv{seconds, 0};
  REQUIRE(::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == 0);
}

// Without blocking: the peer has something to read (or closed).
bool readable(int fd) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, 0) == 1;
}

// Without blocking: the peer closed its end (and sent nothing unread).
bool peer_closed(int fd) {
  char byte;
  return ::recv(fd, &byte, 1, MSG_DONTWAIT | MSG_PEEK) == 0;
}

// Reads what the peer sends until it closes (true) or `seconds` pass.
bool sees_eof(int fd, int seconds) {
  set_read_timeout(fd, seconds);
  char buffer[4096];
  while (true) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n == 0) return true;
    if (n < 0) return false;
  }
}

TEST_CASE("worker protocol: hello, request and response frames round-trip with a real worker",
          "[protocol]") {
  SlotLocks slot(1);
  int pair[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) == 0);
  const server::WorkerLauncher launcher(worker_binary());
  // As the supervisor starts a worker (WorkerSlots::start), with one request
  // to serve before it recycles.
  const server::WorkerLaunch launch{
      {"--fd", "3", "--slot", std::to_string(slot.slots().front()), "--max-requests", "1"},
      test_config_yaml(1),
      {{pair[1], 3}}};
  std::string error;
  const pid_t pid = launcher.launch(launch, error);
  ::close(pair[1]);
  INFO("launch error: " << error);
  REQUIRE(pid > 0);
  const int fd = pair[0];
  set_read_timeout(fd, 60);

  protocol::FrameKind kind{};
  std::string body;
  REQUIRE(protocol::read_frame(fd, kind, body));
  REQUIRE(kind == protocol::FrameKind::kHello);
  std::optional<protocol::Hello> hello = protocol::decode_hello(body);
  REQUIRE(hello);
  CHECK(hello->slot == slot.slots().front());
  CHECK(hello->pid == pid);
  // The longest REALTIME of the configuration (20 s) plus 30 s of margin.
  CHECK(hello->answer_deadline_ms == 50000);

  protocol::Request request;
  request.id = 4242;
  request.payload_text = test::payload_json("s = s.upper() * 2", R"({"s": "ab"})");
  REQUIRE(cjs::os::write_all(fd, protocol::encode(request)));
  REQUIRE(protocol::read_frame(fd, kind, body));
  REQUIRE(kind == protocol::FrameKind::kResponse);
  std::optional<protocol::Response> response = protocol::decode_response(body);
  REQUIRE(response);
  CHECK(response->id == 4242);
  CHECK(response->summary.body == R"({"globals_dict":{"s":"ABAB"}})");
  CHECK(response->last);  // --max-requests 1

  // After its last answer the worker closes its end and exits cleanly.
  CHECK(sees_eof(fd, 30));
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  ::close(fd);
}

TEST_CASE(
    "worker protocol: a peer sending an oversized frame is dropped and the pool keeps serving",
    "[protocol]") {
  WorkerFixture fixture;
  fixture.start_workers();
  int pair[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) == 0);
  fixture.pool().add_worker(pair[0]);
  // A length prefix beyond kMaxFrameBytes, then garbage.
  const std::string garbage = std::string("\xff\xff\xff\xff", 4) + "\x02not a frame at all";
  REQUIRE(::write(pair[1], garbage.data(), garbage.size()) == static_cast<ssize_t>(garbage.size()));
  CHECK(fixture.run_until([&] { return peer_closed(pair[1]); }, std::chrono::seconds(10)));
  ::close(pair[1]);

  CHECK(fixture.pool().workers() == 1);
  PoolOutcome outcome = fixture.run(request_for("ok = True"));
  REQUIRE(outcome.kind == PoolOutcome::kAnswered);
  CHECK(outcome.response.summary.body == R"({"globals_dict":{"ok":true}})");
}

TEST_CASE("worker protocol: a malformed response fails its request only and the pool keeps serving",
          "[protocol]") {
  WorkerFixture fixture;  // workers started after the fake one: it gets the request
  int pair[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) == 0);
  fixture.pool().add_worker(pair[0]);
  const int fake = pair[1];
  REQUIRE(cjs::os::write_all(fake, protocol::encode(protocol::Hello{7, 1, 0})));
  REQUIRE(fixture.run_until([&] { return fixture.pool().workers() == 1; }));

  protocol::Request request = request_for("never = 'run'");
  const std::string payload = request.payload_text;
  std::optional<PoolOutcome> outcome;
  fixture.pool().submit(std::move(request), [&](PoolOutcome o) { outcome = std::move(o); });
  REQUIRE(fixture.run_until([&] { return readable(fake); }, std::chrono::seconds(10)));
  // The fake peer got a real request frame ...
  set_read_timeout(fake, 5);
  protocol::FrameKind kind{};
  std::string body;
  REQUIRE(protocol::read_frame(fake, kind, body));
  CHECK(kind == protocol::FrameKind::kRequest);
  REQUIRE(protocol::decode_request(body));
  // ... and answers with a response frame whose body is garbage.
  std::string bad_response = std::string("\x09\x00\x00\x00\x03", 5) + "garbage!";
  REQUIRE(cjs::os::write_all(fake, bad_response));
  REQUIRE(fixture.run_until([&] { return outcome.has_value(); }));
  CHECK(outcome->kind == PoolOutcome::kWorkerDied);
  CHECK(outcome->payload_text == payload);
  CHECK(peer_closed(fake));
  ::close(fake);

  fixture.start_workers();
  PoolOutcome next = fixture.run(request_for("ok = True"));
  REQUIRE(next.kind == PoolOutcome::kAnswered);
  CHECK(next.response.summary.body == R"({"globals_dict":{"ok":true}})");
}

}  // namespace
}  // namespace cjs::stest
