// Header parameters as Django reads them: parse_header_parameters (4.2),
// the cgi.parse_header algorithm, on UTF-8 text (Content-Type, and each
// multipart part's Content-Disposition and Content-Transfer-Encoding).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "server/form/codec.h"

namespace cjs::server::form {

// _parseparam: ';'-separated pieces, each str.strip()ped; a ';' inside an odd
// number of (unescaped) double quotes does not separate.
std::vector<std::string_view> split_params(std::string_view line);

struct HeaderParams {
  std::string key;                                          // the first piece, lower-cased
  std::vector<std::pair<std::string, std::string>> params;  // a dict: the last assignment wins

  const std::string* get(std::string_view name) const;
  void set(std::string name, std::string value);
};

// nullopt where Python raises ValueError (a malformed RFC 2231 value).
std::optional<HeaderParams> parse_header_parameters(std::string_view line);

// The request's encoding: Django's HttpRequest.encoding is the Content-Type's
// charset when codecs.lookup() knows it, else DEFAULT_CHARSET (utf-8).
// Departure: charsets other than UTF-8, ISO-8859-1 and ASCII are taken as UTF-8.
Codec request_codec(std::string_view content_type);

}  // namespace cjs::server::form
