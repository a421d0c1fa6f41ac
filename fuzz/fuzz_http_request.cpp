// libFuzzer target: an HTTP request as the acceptor reads it: Beast's parser
// with our header/body limits, then our body parsing by media type.
// Invariants: no crash, no sanitizer report, form results well-formed, and
// a request the session accepts with a Transfer-Encoding is read as chunked.
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string>

#include "server/form_body.h"
#include "server/http_framing.h"

namespace http = boost::beast::http;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  http::request_parser<http::string_body> parser;
  parser.header_limit(16 * 1024);
  parser.body_limit(1 << 20);
  parser.eager(true);
  boost::beast::error_code ec;
  std::size_t used = parser.put(boost::asio::buffer(data, size), ec);
  if (used > size) std::abort();
  if (parser.is_header_done()) {
    // HttpSession refuses what request_framing_is_supported() refuses; what
    // it lets through with a Transfer-Encoding must be framed as chunked,
    // or the body would be read as the next request (smuggling).
    if (!cjs::server::request_framing_is_supported(parser.get())) return 0;
    if (parser.get().count(http::field::transfer_encoding) > 0 && !parser.chunked()) std::abort();
  }
  if (ec || !parser.is_done()) return 0;

  const auto& request = parser.get();
  std::string content_type;
  if (auto it = request.find(http::field::content_type); it != request.end()) {
    content_type = std::string(it->value());
  }
  const std::string type = cjs::server::media_type(content_type);
  cjs::server::FormParse form;
  if (type == "multipart/form-data") {
    form = cjs::server::parse_multipart(content_type, request.body());
  } else {
    form = cjs::server::parse_urlencoded(request.body(), content_type);
  }
  if (!form.data) return form.error.detail.empty() ? (std::abort(), 0) : 0;
  std::set<std::string> names;
  for (const auto& file : form.data->files) {
    if (!names.insert(file.name).second) std::abort();  // file names are unique
  }
  return 0;
}
