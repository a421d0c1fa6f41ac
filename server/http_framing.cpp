#include "server/http_framing.h"

#include <boost/beast/core/string.hpp>

namespace cjs::server {

namespace http = boost::beast::http;

namespace {

std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The list's codings; empty elements do not count (RFC 9110 5.6.1).
std::vector<std::string_view> codings(std::string_view value) {
  std::vector<std::string_view> out;
  while (true) {
    const auto comma = value.find(',');
    const auto element = trim_ows(value.substr(0, comma));
    if (!element.empty()) out.push_back(element);
    if (comma == std::string_view::npos) return out;
    value.remove_prefix(comma + 1);
  }
}

}  // namespace

bool transfer_encoding_is_supported(unsigned http_version,
                                    const std::vector<std::string_view>& transfer_encoding_fields) {
  if (transfer_encoding_fields.empty()) return true;
  if (http_version < 11 || transfer_encoding_fields.size() != 1) return false;
  const auto list = codings(transfer_encoding_fields.front());
  return list.size() == 1 && boost::beast::iequals(list.front(), "chunked");
}

bool request_framing_is_supported(const http::request_header<>& header) {
  std::vector<std::string_view> fields;
  const auto [first, last] = header.equal_range(http::field::transfer_encoding);
  for (auto it = first; it != last; ++it) {
    fields.emplace_back(it->value().data(), it->value().size());
  }
  if (!transfer_encoding_is_supported(header.version(), fields)) return false;
  return fields.empty() || header.find(http::field::content_length) == header.end();
}

}  // namespace cjs::server
