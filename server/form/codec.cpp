#include "server/form/codec.h"

#include <algorithm>

#include "common/utf8.h"
#include "server/form/python_str.h"

namespace cjs::server::form {
namespace {

using std::size_t;
using std::string;
using std::string_view;

bool is_ascii_alnum(char ch) {
  return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

// str.isalnum() of the character at name[i] ('.' counts, as
// normalize_encoding keeps it): exact in Latin-1, assumed beyond; invalid
// bytes are not alphanumeric.
bool is_py_alnum(string_view name, size_t i, const utf8::Step& step) {
  if (!step.valid) return false;
  if (step.length == 1) return is_ascii_alnum(name[i]) || name[i] == '.';
  const char32_t cp = step.code_point;
  return cp > 0xFF || cp == 0xAA || cp == 0xB2 || cp == 0xB3 || cp == 0xB5 || cp == 0xB9 ||
         cp == 0xBA || (cp >= 0xBC && cp <= 0xBE) || (cp >= 0xC0 && cp != 0xD7 && cp != 0xF7);
}

// encodings.normalize_encoding, then lower-cased: runs of other characters
// become one '_' (none in front); non-ASCII alphanumerics are dropped.
string normalize_encoding(string_view name) {
  string norm;
  bool punct = false;
  for (size_t i = 0; i < name.size();) {
    const utf8::Step step = utf8::step(name, i, utf8::Form::kUtf8);
    const size_t len = step.length;
    const bool alnum = is_py_alnum(name, i, step);
    if (alnum) {
      if (punct && !norm.empty()) norm += '_';
      if (len == 1) norm += ascii_lower(name[i]);  // non-ASCII ones are dropped
      punct = false;
    } else {
      punct = true;
    }
    i += len;
  }
  return norm;
}

struct Alias {
  string_view name;
  Codec codec;
};
constexpr Alias kAliases[] = {
    {"utf_8", Codec::kUtf8},
    {"cp65001", Codec::kUtf8},
    {"u8", Codec::kUtf8},
    {"utf", Codec::kUtf8},
    {"utf8", Codec::kUtf8},
    {"utf8_ucs2", Codec::kUtf8},
    {"utf8_ucs4", Codec::kUtf8},
    {"latin_1", Codec::kLatin1},
    {"8859", Codec::kLatin1},
    {"cp819", Codec::kLatin1},
    {"csisolatin1", Codec::kLatin1},
    {"ibm819", Codec::kLatin1},
    {"iso8859", Codec::kLatin1},
    {"iso8859_1", Codec::kLatin1},
    {"iso_8859_1", Codec::kLatin1},
    {"iso_8859_1_1987", Codec::kLatin1},
    {"iso_ir_100", Codec::kLatin1},
    {"l1", Codec::kLatin1},
    {"latin", Codec::kLatin1},
    {"latin1", Codec::kLatin1},
    {"ascii", Codec::kAscii},
    {"646", Codec::kAscii},
    {"ansi_x3.4_1968", Codec::kAscii},
    {"ansi_x3.4_1986", Codec::kAscii},
    {"ansi_x3_4_1968", Codec::kAscii},
    {"cp367", Codec::kAscii},
    {"csascii", Codec::kAscii},
    {"ibm367", Codec::kAscii},
    {"iso646_us", Codec::kAscii},
    {"iso_646.irv_1991", Codec::kAscii},
    {"iso_ir_6", Codec::kAscii},
    {"us", Codec::kAscii},
    {"us_ascii", Codec::kAscii},
};

}  // namespace

bool is_ascii(string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char ch) { return static_cast<unsigned char>(ch) < 0x80; });
}

void decode_into(string_view bytes, Codec codec, string& out) {
  switch (codec) {
    case Codec::kUtf8:
      utf8::append_decoded(out, bytes, utf8::Form::kUtf8);
      break;
    case Codec::kLatin1:
      for (const char ch : bytes) utf8::append(out, static_cast<unsigned char>(ch));
      break;
    case Codec::kAscii:
      for (const char ch : bytes) {
        if (static_cast<unsigned char>(ch) < 0x80) {
          out += ch;
        } else {
          out += utf8::kReplacement;
        }
      }
      break;
  }
}

string decode(string_view bytes, Codec codec) {
  string out;
  out.reserve(bytes.size());
  decode_into(bytes, codec, out);
  return out;
}

std::optional<Codec> lookup_codec(string_view name) {
  const string norm = normalize_encoding(name);
  string dotless = norm;
  std::replace(dotless.begin(), dotless.end(), '.', '_');
  for (const Alias& alias : kAliases) {
    // Module names ("utf_8") are found only without dots; aliases either way.
    const bool is_module =
        alias.name == "utf_8" || alias.name == "latin_1" || alias.name == "ascii";
    if (alias.name == norm || (!is_module && alias.name == dotless)) return alias.codec;
  }
  return std::nullopt;
}

}  // namespace cjs::server::form
