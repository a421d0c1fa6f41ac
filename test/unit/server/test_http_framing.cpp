// server/http_framing.h: which Transfer-Encoding framings a request may use
// (RFC 9112 6.1, 6.3). Headers are parsed by Beast, as the session does.
#include <catch2/catch.hpp>

#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "server/http_framing.h"

namespace http = boost::beast::http;
using cjs::server::request_framing_is_supported;
using cjs::server::transfer_encoding_is_supported;

namespace {

// Whether the session would read the request with these extra header lines.
bool framing_ok(const std::string& version, const std::string& lines) {
  http::request_parser<http::string_body> parser;
  const std::string head = "POST /api/v0/code-exec " + version + "\r\nHost: x\r\n" + lines + "\r\n";
  boost::beast::error_code ec;
  parser.put(boost::asio::buffer(head), ec);
  REQUIRE_FALSE(ec);
  REQUIRE(parser.is_header_done());
  return request_framing_is_supported(parser.get());
}

}  // namespace

TEST_CASE("a lone chunked coding in HTTP/1.1 is the only Transfer-Encoding read", "[framing]") {
  CHECK(transfer_encoding_is_supported(11, {}));
  CHECK(transfer_encoding_is_supported(10, {}));
  CHECK(transfer_encoding_is_supported(11, {"chunked"}));
  CHECK(transfer_encoding_is_supported(11, {"Chunked"}));
  CHECK(transfer_encoding_is_supported(11, {" chunked ,"}));  // empty list elements do not count

  CHECK_FALSE(transfer_encoding_is_supported(11, {"gzip"}));
  CHECK_FALSE(transfer_encoding_is_supported(11, {"identity"}));
  CHECK_FALSE(transfer_encoding_is_supported(11, {""}));
  CHECK_FALSE(transfer_encoding_is_supported(11, {"chunked, identity"}));
  CHECK_FALSE(transfer_encoding_is_supported(11, {"gzip, chunked"}));
  CHECK_FALSE(transfer_encoding_is_supported(11, {"chunked, chunked"}));
  CHECK_FALSE(transfer_encoding_is_supported(11, {"chunkedx"}));
  CHECK_FALSE(transfer_encoding_is_supported(11, {"gzip", "chunked"}));
  CHECK_FALSE(transfer_encoding_is_supported(11, {"chunked", "chunked"}));
  CHECK_FALSE(transfer_encoding_is_supported(10, {"chunked"}));
}

TEST_CASE("request framing as the session checks it on a parsed header", "[framing]") {
  CHECK(framing_ok("HTTP/1.1", ""));
  CHECK(framing_ok("HTTP/1.1", "Content-Length: 3\r\n"));
  CHECK(framing_ok("HTTP/1.0", "Content-Length: 3\r\n"));
  CHECK(framing_ok("HTTP/1.1", "Transfer-Encoding: chunked\r\n"));

  // Beast itself takes these as "no body" or as chunked.
  CHECK_FALSE(framing_ok("HTTP/1.1", "Transfer-Encoding: gzip\r\n"));
  CHECK_FALSE(framing_ok("HTTP/1.1", "Transfer-Encoding: gzip, chunked\r\n"));
  CHECK_FALSE(framing_ok("HTTP/1.1", "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n"));
  CHECK_FALSE(framing_ok("HTTP/1.0", "Transfer-Encoding: chunked\r\n"));
  // Beast takes the Content-Length when the coding is not chunked.
  CHECK_FALSE(framing_ok("HTTP/1.1", "Transfer-Encoding: identity\r\nContent-Length: 3\r\n"));
}
