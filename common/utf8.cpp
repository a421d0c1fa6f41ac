#include "common/utf8.h"

namespace cjs::utf8 {

Step last_step(std::string_view text, Form form) {
  constexpr std::size_t kMaxLength = 4;
  std::size_t start = text.size() - 1;
  while (start > 0 && text.size() - start < kMaxLength &&
         (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) {
    --start;
  }
  const Step last = step(text, start, form);
  if (last.valid && last.length == text.size() - start) return last;
  return {1, false, kReplacementCodePoint};
}

bool is_valid(std::string_view text, Form form) {
  for (std::size_t i = 0; i < text.size();) {
    const Step s = step(text, i, form);
    if (!s.valid) return false;
    i += s.length;
  }
  return true;
}

void append_decoded(std::string& out, std::string_view bytes, Form form) {
  std::size_t run = 0;  // start of the bytes still to copy verbatim
  std::size_t i = 0;
  while (i < bytes.size()) {
    if (static_cast<unsigned char>(bytes[i]) < 0x80) {
      ++i;
      continue;
    }
    const Step s = step(bytes, i, form);
    if (!s.valid) {
      out.append(bytes, run, i - run);
      out += kReplacement;
      run = i + s.length;
    }
    i += s.length;
  }
  out.append(bytes, run, i - run);
}

void append(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

}  // namespace cjs::utf8
