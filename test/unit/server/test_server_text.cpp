// Text on the server side: the form decoders now stepping through
// common/utf8.h, and the answers both the HTTP session and the API handler
// give, which must not differ by who gives them (the out-of-memory 503).
#include <catch2/catch.hpp>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "common/config.h"
#include "server/api_handler.h"
#include "server/form/codec.h"
#include "server/form/python_str.h"
#include "server/form_body.h"
#include "server/http_session.h"
#include "server/metrics.h"
#include "server/worker_pool.h"
#include "test/support/test_support.h"

namespace asio = boost::asio;
namespace form = cjs::server::form;
using asio::ip::tcp;
using cjs::server::ApiHandler;
using cjs::server::ApiRequest;
using cjs::server::ApiResponse;

namespace {

const std::string kFffd = "\xEF\xBF\xBD";

// What a client sees of an error answer.
struct Answer {
  int status = 0;
  std::string content_type;
  std::string retry_after;  // "" when absent
  std::string body;
};

// A handler with no workers: what is tested here never reaches the pool.
struct HandlerRig {
  asio::io_context io;
  cjs::Config config;
  cjs::server::ServiceState state{true, false};
  cjs::server::Metrics metrics;
  cjs::server::WorkerPool pool{io, {}, metrics};
  ApiHandler handler{config, state, pool, metrics};
};

// The header value of `name` in a raw HTTP response head, or "".
std::string header_value(const std::string& head, const std::string& name) {
  const std::string key = "\r\n" + name + ": ";
  const auto at = head.find(key);
  if (at == std::string::npos) return "";
  const auto begin = at + key.size();
  return head.substr(begin, head.find("\r\n", begin) - begin);
}

// Sends `request` to a real HttpSession over loopback and reads its answer
// until the session closes the connection.
Answer session_answer(const std::string& request, const cjs::server::SessionLimits& limits) {
  HandlerRig rig;
  tcp::acceptor acceptor(rig.io, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  tcp::socket client(rig.io);
  client.connect(acceptor.local_endpoint());
  std::make_shared<cjs::server::HttpSession>(acceptor.accept(), rig.handler, limits, [] {
  })->start();
  std::thread io_thread([&rig] { rig.io.run(); });
  asio::write(client, asio::buffer(request));
  std::string raw;
  boost::system::error_code ec;
  asio::read(client, asio::dynamic_buffer(raw), ec);  // until EOF
  client.close();
  io_thread.join();

  Answer answer;
  const auto head_end = raw.find("\r\n\r\n");
  REQUIRE(head_end != std::string::npos);
  const std::string head = raw.substr(0, head_end);
  REQUIRE(head.rfind("HTTP/1.1 ", 0) == 0);
  answer.status = std::stoi(head.substr(9, 3));
  answer.content_type = header_value(head, "Content-Type");
  answer.retry_after = header_value(head, "Retry-After");
  answer.body = raw.substr(head_end + 4);
  return answer;
}

// AddressSanitizer reports an allocation that cannot be satisfied as a fatal
// error (its operator new never throws std::bad_alloc), so the out-of-memory
// answers cannot be provoked in the sanitizer build; the release suite runs
// this test.
#if !defined(__SANITIZE_ADDRESS__)
std::size_t address_space_bytes() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmSize:", 0) == 0) return std::stoul(line.substr(7)) * 1024;
  }
  return 0;
}

// Runs a code-exec request whose JSON DOM cannot fit through the real
// ApiHandler, in a child whose address space is capped 128 MiB above what it
// uses: the handler's own out-of-memory answer, as it hands it to the session.
Answer handler_out_of_memory_answer() {
  const std::string text = cjs::test::text_of_forked_child([] {
    std::string answer = "no answer";
    {
      HandlerRig rig;
      ApiRequest request;
      request.method = "POST";
      request.target = "/api/v0/code-exec";
      request.content_type = "application/x-www-form-urlencoded";
      request.request_id = "oom";
      // 4 Mi array items: ~200 MiB of DOM from an 8 MiB body.
      request.body = "payload=[";
      for (int i = 0; i < 4 * 1024 * 1024; ++i) request.body += "0,";
      request.body += "0]";
      const rlim_t cap = address_space_bytes() + (128u << 20);
      const rlimit limit{cap, cap};
      std::optional<ApiResponse> got;
      if (setrlimit(RLIMIT_AS, &limit) == 0) {
        rig.handler.handle(std::move(request), [&got](ApiResponse r) { got = std::move(r); });
      }
      if (got) {
        std::string retry_after;
        for (const auto& [name, value] : got->headers) {
          if (name == "Retry-After") retry_after = value;
        }
        answer = std::to_string(got->status) + "\n" + got->content_type + "\n" + retry_after +
                 "\n" + got->body;
      }
    }
    return answer;
  });
  INFO("child answer: " << text);
  REQUIRE(std::count(text.begin(), text.end(), '\n') >= 3);
  Answer answer;
  std::size_t at = 0;
  const auto next_line = [&text, &at] {
    const auto end = text.find('\n', at);
    std::string line = text.substr(at, end - at);
    at = end + 1;
    return line;
  };
  answer.status = std::stoi(next_line());
  answer.content_type = next_line();
  answer.retry_after = next_line();
  answer.body = text.substr(at);
  return answer;
}

#endif  // !__SANITIZE_ADDRESS__

}  // namespace

#if !defined(__SANITIZE_ADDRESS__)
TEST_CASE("Both out-of-memory 503s carry Retry-After and the same body", "[server_text]") {
  // The session runs out while reserving the announced body: 1 PiB fits its
  // limit here but not in any address space.
  cjs::server::SessionLimits limits;
  limits.max_body_bytes = std::size_t{1} << 52;
  const Answer from_session = session_answer(
      "POST /api/v0/code-exec HTTP/1.1\r\nHost: t\r\nContent-Length: 1125899906842624\r\n\r\n",
      limits);
  const Answer from_handler = handler_out_of_memory_answer();

  for (const Answer* answer : {&from_session, &from_handler}) {
    CHECK(answer->status == 503);
    CHECK(answer->retry_after == "1");
    CHECK(answer->content_type == "application/json");
    CHECK(answer->body == R"({"error":"Codejail service is out of memory; retry later"})");
  }
  CHECK(from_session.body == from_handler.body);
}
#endif  // !__SANITIZE_ADDRESS__

TEST_CASE("The session's early errors are {\"detail\": ...} answers", "[server_text]") {
  cjs::server::SessionLimits limits;
  limits.max_body_bytes = 10;
  const Answer too_large = session_answer(
      "POST /api/v0/code-exec HTTP/1.1\r\nHost: t\r\nContent-Length: 11\r\n\r\n", limits);
  CHECK(too_large.status == 413);
  CHECK(too_large.retry_after.empty());
  CHECK(too_large.body == R"({"detail":"Request body too large"})");
  const Answer malformed = session_answer("GET / HTTP/1.1\r\nBad Header\r\n\r\n", limits);
  CHECK(malformed.status == 400);
  CHECK(malformed.body == R"({"detail":"Malformed HTTP request"})");
}

TEST_CASE("py_strip strips Python whitespace at both ends, never invalid bytes", "[server_text]") {
  CHECK(form::py_strip(" \xC2\x85x y\xE3\x80\x80\t") == "x y");
  CHECK(form::py_strip("\xE2\x80\xA8\xE2\x80\xA9") == "");
  // A truncated or invalid sequence is not whitespace: stripping stops there.
  CHECK(form::py_strip("\xC2\xA0x\xC2") == "x\xC2");
  CHECK(form::py_strip("\x80 x") == "\x80 x");
  CHECK(form::py_strip(" x \xA0") == "x \xA0");  // a lone continuation byte
}

TEST_CASE("Form decoding: strict UTF-8 with replacement, Latin-1, codec names", "[server_text]") {
  CHECK(form::decode("\xED\xA0\x80", form::Codec::kUtf8) == kFffd + kFffd + kFffd);
  CHECK(form::decode("a\xE2\x82\xF0\x9F\x98\x80", form::Codec::kUtf8) ==
        "a" + kFffd + "\xF0\x9F\x98\x80");
  CHECK(form::decode("\xE9\xFF", form::Codec::kLatin1) == "\xC3\xA9\xC3\xBF");
  CHECK(form::decode("\xE9", form::Codec::kAscii) == kFffd);
  // Non-ASCII alphanumerics are dropped from a codec name, other
  // characters (invalid bytes too) separate its words.
  CHECK(form::lookup_codec("\xC3\xA9UTF-8") == form::Codec::kUtf8);
  CHECK(form::lookup_codec("latin\xC2\xA0"
                           "1") == form::Codec::kLatin1);
  CHECK(form::lookup_codec("utf\xFF"
                           "8") == form::Codec::kUtf8);
  CHECK(form::lookup_codec("utf\xC3\xA9"
                           "8") == form::Codec::kUtf8);  // dropped, not a separator
  CHECK_FALSE(form::lookup_codec("utf-16").has_value());
}

TEST_CASE("urlencoded bodies: invalid UTF-8 falls back to Latin-1", "[server_text]") {
  const auto field = [](const std::string& body) {
    cjs::server::FormParse parsed = cjs::server::parse_urlencoded(body);
    REQUIRE(parsed.data);
    REQUIRE(parsed.data->fields.size() == 1);
    return parsed.data->fields[0].second;
  };
  CHECK(field("a=\xC3\xA9") == "\xC3\xA9");
  CHECK(field("a=\xE9") == "\xC3\xA9");                          // not UTF-8: all of it as Latin-1
  CHECK(field("a=\xED\xA0\x80") == "\xC3\xAD\xC2\xA0\xC2\x80");  // a surrogate is not UTF-8
  CHECK(field("a=%ED%A0%80") == kFffd + kFffd + kFffd);
}
