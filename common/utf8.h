// UTF-8 as CPython 3.11 decodes and encodes it, shared by the JSON parser and
// the form-body decoder so that both replace exactly the same bytes.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace cjs {

inline constexpr std::string_view kUtf8Replacement = "\xEF\xBF\xBD";  // U+FFFD

// One decoding step of Python's UTF-8 decoder with errors="replace": a valid
// sequence, or the maximal invalid subpart that becomes a single U+FFFD.
struct Utf8Step {
  std::size_t length;  // >= 1
  bool valid;
};

// The step at text[i] (i < text.size()). A sequence truncated by the end of
// `text` is one invalid subpart ("unexpected end of data").
// Inline: the decoders call it once per byte in their hot loops.
inline Utf8Step utf8_step(std::string_view text, std::size_t i) {
  const auto lead = static_cast<unsigned char>(text[i]);
  if (lead < 0x80) return {1, true};
  std::size_t continuations = 0;
  unsigned char low = 0x80;
  unsigned char high = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    continuations = 1;
  } else if (lead == 0xE0) {
    continuations = 2;
    low = 0xA0;  // overlong otherwise
  } else if (lead == 0xED) {
    continuations = 2;
    high = 0x9F;  // surrogates are not valid UTF-8
  } else if (lead >= 0xE1 && lead <= 0xEF) {
    continuations = 2;
  } else if (lead == 0xF0) {
    continuations = 3;
    low = 0x90;  // overlong otherwise
  } else if (lead >= 0xF1 && lead <= 0xF3) {
    continuations = 3;
  } else if (lead == 0xF4) {
    continuations = 3;
    high = 0x8F;  // beyond U+10FFFF otherwise
  } else {
    return {1, false};
  }
  for (std::size_t n = 1; n <= continuations; ++n) {
    if (i + n >= text.size()) return {n, false};
    const auto byte = static_cast<unsigned char>(text[i + n]);
    if (byte < low || byte > high) return {n, false};
    low = 0x80;
    high = 0xBF;
  }
  return {continuations + 1, true};
}

// Appends the UTF-8 form of `cp` (< 0x110000). Surrogates take the generic
// 3-byte form, as WTF-8 (and Python's "surrogatepass") spells them.
void append_utf8(std::string& out, char32_t cp);

}  // namespace cjs
