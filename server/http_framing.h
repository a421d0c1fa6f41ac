// Request framing this server reads unambiguously (RFC 9112 6.1, 6.3).
// A body framed any other way would be read differently by this server and
// by a proxy in front of it (request smuggling), so such a request is
// refused with 400 and its connection closed.
#pragma once

#include <boost/beast/http/message.hpp>

#include <string_view>
#include <vector>

namespace cjs::server {

// True when a request with these Transfer-Encoding field values (one per
// field line, none when the header is absent) can be read: no field at all,
// or, in HTTP/1.1, one field whose only coding is "chunked". Beast decodes
// no other coding, and RFC 9112 6.1 forbids Transfer-Encoding in HTTP/1.0.
bool transfer_encoding_is_supported(unsigned http_version,
                                    const std::vector<std::string_view>& transfer_encoding_fields);

// The request header's framing as a whole: its Transfer-Encoding is
// supported and, when present, comes without a Content-Length (RFC 9112
// 6.3 item 3: such a message ought to be handled as an error).
bool request_framing_is_supported(const boost::beast::http::request_header<>& header);

}  // namespace cjs::server
