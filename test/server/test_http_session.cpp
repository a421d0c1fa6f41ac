// A real Beast session on loopback, in front of the real handler, pool and
// workers: keep-alive, the body limit and malformed HTTP (docs/api.md 9).
#include <catch2/catch.hpp>

#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <future>
#include <memory>
#include <optional>
#include <vector>

#include "http_client.h"
#include "server/api_handler.h"
#include "server/http_session.h"
#include "test/support/test_support.h"
#include "worker_fixture.h"

namespace cjs::stest {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// The listener's part: every connection gets an HttpSession.
struct Server {
  WorkerFixture fixture;
  server::ServiceState state{true, false};
  server::ApiHandler handler{fixture.settings(), state, fixture.pool(), fixture.metrics()};
  server::SessionLimits limits;
  tcp::acceptor acceptor{fixture.io(), tcp::endpoint(asio::ip::address_v4::loopback(), 0)};
  // Shared with the sessions, which report their end from their destructor.
  std::shared_ptr<int> accepted = std::make_shared<int>(0);
  std::shared_ptr<int> closed = std::make_shared<int>(0);

  explicit Server(std::size_t max_body_bytes) {
    limits.max_body_bytes = max_body_bytes;
    fixture.start_workers();
    accept();
  }

  void accept() {
    acceptor.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
      if (ec) return;
      ++*accepted;
      std::make_shared<server::HttpSession>(std::move(socket), handler, limits, [closed = closed] {
        ++*closed;
      })->start();
      accept();
    });
  }

  std::uint16_t port() const { return acceptor.local_endpoint().port(); }

  // Runs the service side until the client side (another thread) is done.
  template <typename T>
  T serve_until(std::future<T>& client) {
    REQUIRE(fixture.run_until(
        [&] { return client.wait_for(std::chrono::seconds(0)) == std::future_status::ready; }));
    return client.get();
  }

  // Every session ended (the sessions reference this object).
  void wait_for_sessions() {
    INFO("sessions: " << *accepted << " accepted, " << *closed << " closed");
    CHECK(fixture.run_until([&] { return *closed == *accepted; }, std::chrono::seconds(10)));
  }
};

std::string post_form(const std::string& form, bool close = false) {
  return "POST /api/v0/code-exec HTTP/1.1\r\nHost: localhost\r\n"
         "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: " +
         std::to_string(form.size()) + "\r\n" + (close ? "Connection: close\r\n" : "") + "\r\n" +
         form;
}

const std::string kGetHealth = "GET /health/ HTTP/1.1\r\nHost: localhost\r\n\r\n";

TEST_CASE("http session: one keep-alive connection carries several requests", "[http]") {
  Server server(32u << 20);
  HttpClient client(server.port());
  auto exchange = std::async(std::launch::async, [&] {
    std::vector<std::optional<HttpReply>> replies;
    client.send(kGetHealth);
    replies.push_back(client.receive());
    client.send(
        post_form("payload=%7B%22code%22%3A%22x+%3D+6+*+7%22%2C%22globals_dict%22%3A%7B%7D%7D"));
    replies.push_back(client.receive());
    client.send(kGetHealth);
    replies.push_back(client.receive());
    return replies;
  });
  std::vector<std::optional<HttpReply>> replies = server.serve_until(exchange);
  REQUIRE(replies.size() == 3);
  for (const auto& reply : replies) {
    REQUIRE(reply);
    CHECK(reply->status == 200);
    CHECK(reply->headers.find("connection: close") == std::string::npos);
  }
  CHECK(replies[0]->body == R"({"status": "OK"})");
  CHECK(replies[1]->body == R"({"globals_dict":{"x":42}})");
  CHECK(replies[2]->body == R"({"status": "OK"})");
  CHECK(*server.accepted == 1);
  client.close();  // the session ends when its client leaves
  server.wait_for_sessions();
}

TEST_CASE("http session: a body over max_body_bytes is 413 and the connection closes", "[http]") {
  Server server(1024);
  HttpClient client(server.port());
  auto exchange = std::async(std::launch::async, [&] {
    // Only the header: the Content-Length alone is over the limit.
    client.send(
        "POST /api/v0/code-exec HTTP/1.1\r\nHost: localhost\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 5000\r\n\r\n");
    std::optional<HttpReply> reply = client.receive();
    return std::make_pair(reply, client.closed_by_server());
  });
  auto [reply, closed] = server.serve_until(exchange);
  REQUIRE(reply);
  CHECK(reply->status == 413);
  CHECK(reply->body == R"({"detail":"Request body too large"})");
  CHECK(closed);
  server.wait_for_sessions();
}

TEST_CASE("http session: a malformed request is 400 and the connection closes", "[http]") {
  Server server(32u << 20);
  HttpClient client(server.port());
  auto exchange = std::async(std::launch::async, [&] {
    client.send("THIS IS NOT HTTP\r\n\r\n");
    std::optional<HttpReply> reply = client.receive();
    return std::make_pair(reply, client.closed_by_server());
  });
  auto [reply, closed] = server.serve_until(exchange);
  REQUIRE(reply);
  CHECK(reply->status == 400);
  CHECK(reply->body == R"({"detail":"Malformed HTTP request"})");
  CHECK(closed);
  server.wait_for_sessions();
}

}  // namespace
}  // namespace cjs::stest
