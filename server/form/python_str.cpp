#include "server/form/python_str.h"

#include <cstddef>

#include "common/utf8.h"

namespace cjs::server::form {
namespace {

using std::size_t;
using std::string;
using std::string_view;

constexpr size_t kNpos = string_view::npos;

// Python's str.isspace(), which str.strip() uses.
bool is_py_space(char32_t cp) {
  return (cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x20) || cp == 0x85 || cp == 0xA0 ||
         cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 ||
         cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

}  // namespace

char ascii_lower(char ch) {
  return (ch >= 'A' && ch <= 'Z') ? static_cast<char>(ch - 'A' + 'a') : ch;
}

string ascii_lower(string_view s) {
  string out(s);
  for (char& ch : out) ch = ascii_lower(ch);
  return out;
}

string_view py_strip(string_view s) {
  size_t begin = 0;
  size_t end = s.size();
  while (begin < end) {
    const utf8::Step step = utf8::step(s, begin, utf8::Form::kUtf8);
    if (!step.valid || !is_py_space(step.code_point)) break;
    begin += step.length;
  }
  while (end > begin) {
    const utf8::Step step = utf8::last_step(s.substr(begin, end - begin), utf8::Form::kUtf8);
    if (!step.valid || !is_py_space(step.code_point)) break;
    end -= step.length;
  }
  return s.substr(begin, end - begin);
}

bool is_ascii_space(char ch) {
  return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\v' || ch == '\f';
}

string_view ascii_strip(string_view s) {
  size_t begin = 0;
  size_t end = s.size();
  while (begin < end && is_ascii_space(s[begin])) ++begin;
  while (end > begin && is_ascii_space(s[end - 1])) --end;
  return s.substr(begin, end - begin);
}

int hex_value(char ch) {
  if (ch >= '0' && ch <= '9') return ch - '0';
  if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
  if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
  return -1;
}

void py_unquote_into(string_view text, Codec codec, string& out) {
  if (text.find('%') == kNpos) {
    out.append(text);
    return;
  }
  string run;
  for (size_t i = 0; i < text.size();) {
    size_t j = i;
    if (byte_at(text, i) >= 0x80) {
      while (j < text.size() && byte_at(text, j) >= 0x80) ++j;
      out.append(text.substr(i, j - i));
      i = j;
      continue;
    }
    while (j < text.size() && byte_at(text, j) < 0x80) ++j;
    run.clear();
    for (size_t k = i; k < j; ++k) {
      if (text[k] == '%' && k + 2 < j) {
        const int hi = hex_value(text[k + 1]);
        const int lo = hex_value(text[k + 2]);
        if (hi >= 0 && lo >= 0) {
          run += static_cast<char>(hi * 16 + lo);
          k += 2;
          continue;
        }
      }
      run += text[k];
    }
    decode_into(run, codec, out);
    i = j;
  }
}

string replace_all(string_view s, string_view from, string_view to) {
  string out;
  out.reserve(s.size());
  size_t i = 0;
  while (true) {
    const size_t hit = s.find(from, i);
    if (hit == kNpos) break;
    out.append(s.substr(i, hit - i));
    out.append(to);
    i = hit + from.size();
  }
  out.append(s.substr(i));
  return out;
}

}  // namespace cjs::server::form
