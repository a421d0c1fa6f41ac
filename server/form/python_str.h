// The Python str and bytes operations Django applies to request bodies, on
// UTF-8 text (Python str values are kept as UTF-8 here): strip(), lower()
// where only ASCII matters, urllib.parse.unquote(), str.replace().
#pragma once

#include <string>
#include <string_view>

#include "server/form/codec.h"

namespace cjs::server::form {

char ascii_lower(char ch);
// str.lower() for what we compare it with: only ASCII letters matter there.
std::string ascii_lower(std::string_view s);

bool is_ascii_space(char ch);
// str.strip() (Python's whitespace, str.isspace()) on UTF-8 text.
std::string_view py_strip(std::string_view s);
// bytes.strip(): ASCII whitespace only.
std::string_view ascii_strip(std::string_view s);

// The value of a hex digit, or -1.
int hex_value(char ch);

// urllib.parse.unquote(text, encoding=codec, errors='replace') on UTF-8 text:
// runs of ASCII are percent-decoded to bytes and decoded together; other
// characters pass through; a '%' not followed by two hex digits stays.
void py_unquote_into(std::string_view text, Codec codec, std::string& out);

// str.replace(from, to).
std::string replace_all(std::string_view s, std::string_view from, std::string_view to);

}  // namespace cjs::server::form
