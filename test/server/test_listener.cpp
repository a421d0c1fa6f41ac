// server/acceptor/listener.h with real sessions on loopback: one client
// address cannot hold more than max_connections_per_ip connections, while
// another address is still served.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <future>
#include <optional>
#include <vector>

#include "http_client.h"
#include "server/acceptor/listener.h"
#include "server/api_handler.h"
#include "worker_fixture.h"

namespace cjs::stest {
namespace {

// A listening socket on 127.0.0.1 and its port.
int listen_on_loopback(std::uint16_t& port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(::listen(fd, 64) == 0);
  socklen_t length = sizeof addr;
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &length) == 0);
  port = ntohs(addr.sin_port);
  return fd;
}

TEST_CASE("listener: one client address holds at most max_connections_per_ip connections",
          "[http]") {
  WorkerFixture fixture;  // no workers started: /health/ needs none
  server::ServiceState state{true, false};
  server::ApiHandler handler{fixture.settings(), state, fixture.pool(), fixture.metrics()};
  server::SessionLimits limits;
  std::uint16_t port = 0;
  const int fd = listen_on_loopback(port);
  server::Listener listener(fixture.io(), handler, limits, 100, 2);
  REQUIRE(listener.adopt(fd));
  listener.start();

  // Connected in this order, so accepted in this order.
  HttpClient first(port), second(port), third(port), elsewhere(port, "127.0.0.2");
  auto exchange = std::async(std::launch::async, [&] {
    std::vector<std::optional<HttpReply>> replies;
    for (HttpClient* client : {&first, &second, &third, &elsewhere}) {
      client->send("GET /health/ HTTP/1.1\r\nHost: localhost\r\n\r\n");
      replies.push_back(client->receive());
    }
    return replies;
  });
  REQUIRE(fixture.run_until(
      [&] { return exchange.wait_for(std::chrono::seconds(0)) == std::future_status::ready; }));
  std::vector<std::optional<HttpReply>> replies = exchange.get();
  REQUIRE(replies.size() == 4);
  REQUIRE(replies[0]);
  CHECK(replies[0]->status == 200);
  REQUIRE(replies[1]);
  CHECK(replies[1]->status == 200);
  CHECK_FALSE(replies[2]);  // closed at once, unanswered
  REQUIRE(replies[3]);
  CHECK(replies[3]->status == 200);
  CHECK(listener.open_sessions() == 3);
  listener.stop();
}

}  // namespace
}  // namespace cjs::stest
