// The facade's small pieces: FormData's lookup and the request's media type.
#include <string>
#include <string_view>

#include "server/form/codec.h"
#include "server/form/header_params.h"
#include "server/form/python_str.h"
#include "server/form_body.h"

namespace cjs::server {

std::optional<std::string> FormData::field(std::string_view name) const {
  for (auto it = fields.rbegin(); it != fields.rend(); ++it) {
    if (it->first == name) return it->second;
  }
  return std::nullopt;
}

std::string media_type(std::string_view content_type) {
  // DRF's _MediaType: parse_header_parameters(...)[0] (the header is latin-1).
  return form::ascii_lower(
      form::split_params(form::decode(content_type, form::Codec::kLatin1)).front());
}

}  // namespace cjs::server
