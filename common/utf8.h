// The one UTF-8 decoder and encoder of the project, following CPython 3.11:
// the JSON parser and renderer, Python repr() and the form-body decoder all
// step through text with utf8::step, so they agree on which bytes are valid.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace cjs::utf8 {

enum class Form {
  // bytes.decode("utf-8"): encoded surrogates (ED A0..BF xx) are invalid.
  kUtf8,
  // WTF-8: lone surrogates are valid, in their generic 3-byte spelling. Our
  // JSON strings hold "\ud800" this way (Python's "surrogatepass").
  kWtf8,
};

inline constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD
inline constexpr char32_t kReplacementCodePoint = 0xFFFD;

// One decoding step of Python's decoder with errors="replace": a valid
// sequence and its code point, or the maximal invalid subpart that becomes a
// single U+FFFD.
struct Step {
  std::size_t length;  // >= 1
  bool valid;
  char32_t code_point;  // U+FFFD when !valid
};

// The step at text[i] (i < text.size()). A sequence truncated by the end of
// `text` is one invalid subpart ("unexpected end of data").
// Inline: the decoders call it once per non-ASCII character in hot loops.
inline Step step(std::string_view text, std::size_t i, Form form) {
  const auto lead = static_cast<unsigned char>(text[i]);
  if (lead < 0x80) return {1, true, lead};
  std::size_t continuations = 0;
  unsigned char low = 0x80;
  unsigned char high = 0xBF;
  char32_t value = 0;
  if (lead >= 0xC2 && lead <= 0xDF) {
    continuations = 1;
    value = lead & 0x1F;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    continuations = 2;
    value = lead & 0x0F;
    if (lead == 0xE0) low = 0xA0;                          // overlong otherwise
    if (lead == 0xED && form == Form::kUtf8) high = 0x9F;  // a surrogate otherwise
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    continuations = 3;
    value = lead & 0x07;
    if (lead == 0xF0) low = 0x90;   // overlong otherwise
    if (lead == 0xF4) high = 0x8F;  // beyond U+10FFFF otherwise
  } else {
    return {1, false, kReplacementCodePoint};
  }
  for (std::size_t n = 1; n <= continuations; ++n) {
    if (i + n >= text.size()) return {n, false, kReplacementCodePoint};
    const auto byte = static_cast<unsigned char>(text[i + n]);
    if (byte < low || byte > high) return {n, false, kReplacementCodePoint};
    low = 0x80;
    high = 0xBF;
    value = (value << 6) | (byte & 0x3F);
  }
  return {continuations + 1, true, value};
}

// The character that ends `text` (not empty), for scanning backwards: the
// valid sequence that ends exactly there, or {1, false} for the last byte.
// Agrees with forward stepping: a lead byte is never a continuation byte.
Step last_step(std::string_view text, Form form);

// True when every step of `text` is valid.
bool is_valid(std::string_view text, Form form);

// bytes.decode(errors="replace"), appended to `out`: each maximal invalid
// subpart becomes one U+FFFD, valid sequences are copied.
void append_decoded(std::string& out, std::string_view bytes, Form form);

// Appends the encoding of `cp` (< 0x110000). Surrogates take the generic
// 3-byte form, as WTF-8 (and Python's "surrogatepass") spells them.
void append(std::string& out, char32_t cp);

}  // namespace cjs::utf8
