// application/x-www-form-urlencoded as Django's QueryDict parses it
// (through DRF's FormParser).
#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>

#include "common/utf8.h"
#include "server/form/codec.h"
#include "server/form/form_limits.h"
#include "server/form/header_params.h"
#include "server/form/python_str.h"
#include "server/form_body.h"

namespace cjs::server {

using form::Codec;
using std::size_t;
using std::string;
using std::string_view;

FormParse parse_urlencoded(std::string_view body, std::string_view content_type) {
  const Codec codec = form::request_codec(content_type);
  // QueryDict(bytes): decode with the request's encoding, or as ISO-8859-1
  // when that fails.
  string text;
  if ((codec == Codec::kUtf8 && utf8::is_valid(body, utf8::Form::kUtf8)) ||
      (codec == Codec::kAscii && form::is_ascii(body))) {
    text = string(body);
  } else {
    text = form::decode(body, Codec::kLatin1);
  }
  // parse_qsl(max_num_fields=1000) counts separators, empty fields included.
  if (!text.empty() &&
      static_cast<size_t>(std::count(text.begin(), text.end(), '&')) + 1 > form::kMaxNumberFields) {
    return form::failure(string(form::kTooManyFields));
  }
  FormParse result;
  FormData& data = result.data.emplace();
  // parse_qsl(keep_blank_values=True): '&' only, empty pieces skipped, a piece
  // without '=' is a name with an empty value, '+' is a space.
  const string_view all(text);
  for (size_t start = 0; start < all.size();) {
    size_t amp = all.find('&', start);
    if (amp == string_view::npos) amp = all.size();
    const string_view piece = all.substr(start, amp - start);
    start = amp + 1;
    if (piece.empty()) continue;
    const size_t eq = piece.find('=');
    string name(piece.substr(0, eq));
    string value(eq == string_view::npos ? string_view() : piece.substr(eq + 1));
    std::replace(name.begin(), name.end(), '+', ' ');
    std::replace(value.begin(), value.end(), '+', ' ');
    std::pair<string, string> field;
    form::py_unquote_into(name, codec, field.first);
    form::py_unquote_into(value, codec, field.second);
    data.fields.push_back(std::move(field));
  }
  return result;
}

}  // namespace cjs::server
