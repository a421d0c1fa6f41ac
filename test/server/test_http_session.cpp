// A real Beast session on loopback, in front of the real handler, pool and
// workers: keep-alive, the body limit and malformed HTTP (docs/api.md 9).
#include <catch2/catch.hpp>

#include <boost/asio/ip/tcp.hpp>

#include <cctype>
#include <chrono>
#include <fstream>
#include <future>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "http_client.h"
#include "server/api_handler.h"
#include "server/body_budget.h"
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

// A urlencoded form whose payload runs `code` with empty globals.
std::string form_for(std::string_view code) {
  const std::string json = test::payload_json(code, "{}");
  std::string form = "payload=";
  for (const unsigned char c : json) {
    if (std::isalnum(c) != 0) {
      form += static_cast<char>(c);
    } else {
      static constexpr char kHex[] = "0123456789ABCDEF";
      form += '%';
      form += kHex[c >> 4];
      form += kHex[c & 15];
    }
  }
  return form;
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

TEST_CASE("http session: a queued request whose client closed its connection never runs",
          "[http]") {
  // edxapp gives up after 3.5 s and closes its connection; running its
  // request afterwards only delays the requests behind it.
  Server server(32u << 20);
  HttpClient busy(server.port());
  HttpClient leaving(server.port());
  auto exchange = std::async(std::launch::async, [&] {
    busy.send(post_form(form_for("import time\ntime.sleep(2)")));
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    leaving.send(post_form(form_for("y = 1")));
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    leaving.close();
    return busy.receive();
  });
  std::optional<HttpReply> reply = server.serve_until(exchange);
  REQUIRE(reply);
  CHECK(reply->status == 200);
  // The worker took (or dropped) the queued request when it answered.
  REQUIRE(server.fixture.run_until([&] { return server.fixture.pool().idle(); },
                                   std::chrono::seconds(30)));
  const std::string metrics = server.fixture.metrics().render();
  INFO(metrics);
  CHECK(metrics.find("codejail_exec_requests_total{status=\"executed.success\"} 1\n") !=
        std::string::npos);
  CHECK(metrics.find("codejail_rejected_total{reason=\"client_closed\"} 1\n") != std::string::npos);
  busy.close();
  server.wait_for_sessions();
}

// The peak resident size of this process (VmHWM), bytes.
std::size_t peak_rss_bytes() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stoul(line.substr(6)) * 1024;
  }
  FAIL("no VmHWM in /proc/self/status");
  return 0;
}

TEST_CASE("http session: bodies beyond max_buffered_body_bytes get 503 and take no memory",
          "[http]") {
  // Each client sends all but the last byte of a maximal body, and waits.
  constexpr std::size_t kBody = 16u << 20;
  constexpr int kClients = 12;
  Server server(kBody);
  // Room for two of them.
  server.limits.body_budget = std::make_shared<server::BodyBudget>(2 * kBody + kBody / 2);
  server.limits.body_timeout = std::chrono::seconds(3);
  const std::string header =
      "POST /api/v0/code-exec HTTP/1.1\r\nHost: localhost\r\n"
      "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: " +
      std::to_string(kBody) + "\r\n\r\n";
  const std::string body(kBody - 1, 'x');
  std::vector<std::unique_ptr<HttpClient>> clients;
  for (int i = 0; i < kClients; ++i) clients.push_back(std::make_unique<HttpClient>(server.port()));
  const std::size_t rss_before = peak_rss_bytes();
  auto exchange = std::async(std::launch::async, [&] {
    std::vector<std::future<std::optional<HttpReply>>> each;
    for (auto& client : clients) {
      each.push_back(std::async(std::launch::async, [&client, &header, &body] {
        client->send(header);
        client->send(body);
        return client->receive();
      }));
    }
    std::vector<std::optional<HttpReply>> replies;
    for (auto& reply : each) replies.push_back(reply.get());
    return replies;
  });
  std::vector<std::optional<HttpReply>> replies = server.serve_until(exchange);
  const std::size_t grown = peak_rss_bytes() - rss_before;
  int refused = 0, cut_off = 0;
  for (const auto& reply : replies) {
    if (!reply) {
      ++cut_off;  // the two that fit, never finished: closed at the body deadline
      continue;
    }
    CHECK(reply->status == 503);
    if (reply->status != 503) continue;
    ++refused;
    CHECK(reply->body == R"({"detail":"Too many request bodies in progress; retry later"})");
    CHECK(reply->headers.find("\r\nretry-after: 1\r\n") != std::string::npos);
  }
  CHECK(refused == kClients - 2);
  CHECK(cut_off == 2);
  // Two bodies and some overhead; unbounded, the twelve held 192 MiB.
  INFO("peak RSS grew by " << (grown >> 20) << " MiB");
  CHECK(grown < 2 * kBody + (24u << 20));
  CHECK(server.limits.body_budget->used() == 0);
  for (auto& client : clients) client->close();
  server.wait_for_sessions();
}

TEST_CASE("http session: a chunked body is held to max_buffered_body_bytes as it grows", "[http]") {
  // No Content-Length to reserve up front: the session reserves what the
  // body holds as its chunks arrive, and refuses it once that exceeds the
  // budget (unchecked, the whole 1 MiB was read and handed on).
  constexpr std::size_t kBudget = 256u << 10;
  Server server(4u << 20);
  server.limits.body_budget = std::make_shared<server::BodyBudget>(kBudget);
  HttpClient client(server.port());
  auto exchange = std::async(std::launch::async, [&client] {
    client.send(
        "POST /api/v0/code-exec HTTP/1.1\r\nHost: localhost\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n");
    const std::string chunk = "10000\r\n" + std::string(0x10000, 'x') + "\r\n";
    for (int i = 0; i < 16; ++i) {
      if (!client.send(chunk)) break;  // refused: the server stops reading
    }
    client.send("0\r\n\r\n");
    return client.receive();
  });
  const std::optional<HttpReply> reply = server.serve_until(exchange);
  REQUIRE(reply);
  CHECK(reply->status == 503);
  CHECK(reply->body == R"({"detail":"Too many request bodies in progress; retry later"})");
  CHECK(server.limits.body_budget->used() == 0);
  client.close();
  server.wait_for_sessions();
}

TEST_CASE("http session: a connection that sends half a header is closed within seconds",
          "[http]") {
  // 1024 of them held every connection for the old 10 s header timeout.
  Server server(32u << 20);
  HttpClient client(server.port());
  auto exchange = std::async(std::launch::async, [&] {
    client.send("POST /api/v0/code-exec HTTP/1.1\r\nHost: loc");
    const auto sent = std::chrono::steady_clock::now();
    const bool closed = client.closed_by_server();
    return std::make_pair(
        closed, std::chrono::duration<double>(std::chrono::steady_clock::now() - sent).count());
  });
  auto [closed, seconds] = server.serve_until(exchange);
  CHECK(closed);
  CHECK(seconds < 6.5);
  server.wait_for_sessions();
}

}  // namespace
}  // namespace cjs::stest
