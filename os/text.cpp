#include "os/text.h"

#include <cctype>

namespace cjs::os {

std::vector<std::string_view> split_words(std::string_view text) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    std::size_t start = i;
    while (i < text.size() && !std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    if (i > start) out.push_back(text.substr(start, i - start));
  }
  return out;
}

bool has_word(std::string_view text, std::string_view word) {
  for (auto w : split_words(text)) {
    if (w == word) return true;
  }
  return false;
}

}  // namespace cjs::os
