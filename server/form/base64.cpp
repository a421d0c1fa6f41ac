#include "server/form/base64.h"

namespace cjs::server::form {

using std::string;
using std::string_view;

std::optional<string> b64decode(string_view data) {
  string out;
  out.reserve(data.size() / 4 * 3);
  int quad_pos = 0;
  int pads = 0;
  unsigned left = 0;
  for (const char ch : data) {
    if (ch == '=') {
      // Enough padding ends the data; anything after it is ignored.
      if (quad_pos >= 2 && quad_pos + ++pads >= 4) return out;
      continue;
    }
    int value;
    if (ch >= 'A' && ch <= 'Z') {
      value = ch - 'A';
    } else if (ch >= 'a' && ch <= 'z') {
      value = ch - 'a' + 26;
    } else if (ch >= '0' && ch <= '9') {
      value = ch - '0' + 52;
    } else if (ch == '+') {
      value = 62;
    } else if (ch == '/') {
      value = 63;
    } else {
      continue;  // not base64: skipped
    }
    pads = 0;
    const auto v = static_cast<unsigned>(value);
    switch (quad_pos) {
      case 0:
        quad_pos = 1;
        left = v;
        break;
      case 1:
        quad_pos = 2;
        out += static_cast<char>(((left << 2) | (v >> 4)) & 0xFF);
        left = v & 0x0F;
        break;
      case 2:
        quad_pos = 3;
        out += static_cast<char>(((left << 4) | (v >> 2)) & 0xFF);
        left = v & 0x03;
        break;
      default:
        quad_pos = 0;
        out += static_cast<char>(((left << 6) | v) & 0xFF);
        left = 0;
        break;
    }
  }
  if (quad_pos != 0) return std::nullopt;
  return out;
}

}  // namespace cjs::server::form
