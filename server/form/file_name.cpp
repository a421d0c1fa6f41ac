#include "server/form/file_name.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>

#include "server/form/python_str.h"

namespace cjs::server::form {
namespace {

using std::size_t;
using std::string;
using std::string_view;

constexpr size_t kNpos = string_view::npos;

// What sanitize_file_name looks at: '.', '/', '\' stay, any other character
// becomes 'x'.
void append_symbol(char ch, string& out) {
  out += (ch == '.' || ch == '/' || ch == '\\') ? ch : 'x';
}

// The symbol of the character html.unescape() makes of the numeric reference
// `num`. html._invalid_charrefs (0, CR, 0x80-0x9F) map to a character, so do
// surrogates and out-of-range values (U+FFFD); html._invalid_codepoints map
// to nothing.
void append_numeric_symbol(std::uint32_t num, string& out) {
  if (num == 0x2E || num == 0x2F || num == 0x5C) {
    out += static_cast<char>(num);
    return;
  }
  if (num == 0 || num == 0x0D || (num >= 0x80 && num <= 0x9F)) {
    out += 'x';
  } else if ((num >= 0xD800 && num <= 0xDFFF) || num > 0x10FFFF) {
    out += 'x';
  } else if ((num >= 0x01 && num <= 0x08) || num == 0x0B || (num >= 0x0E && num <= 0x1F) ||
             num == 0x7F || (num >= 0xFDD0 && num <= 0xFDEF) || (num & 0xFFFE) == 0xFFFE) {
    // nothing
  } else {
    out += 'x';
  }
}

// A numeric reference at name[i] ("&#" + digits, or "&#x" + hex digits, an
// optional ';'): its symbol appended and the index after it, or kNpos when
// "&#" has no digits (literal text then).
size_t numeric_reference(string_view name, size_t i, string& out) {
  const size_t j = i + 1;  // the '#'
  const bool hex = j + 1 < name.size() && (name[j + 1] == 'x' || name[j + 1] == 'X');
  const bool dec = j + 1 < name.size() && name[j + 1] >= '0' && name[j + 1] <= '9';
  const size_t digits = dec ? j + 1 : j + 2;
  if (!dec && !(hex && digits < name.size() && hex_value(name[digits]) >= 0)) return kNpos;
  std::uint32_t num = 0;
  size_t k = digits;
  for (; k < name.size(); ++k) {
    const int digit =
        dec ? ((name[k] >= '0' && name[k] <= '9') ? name[k] - '0' : -1) : hex_value(name[k]);
    if (digit < 0) break;
    // Saturate: anything above U+10FFFF behaves the same.
    num = std::min<std::uint32_t>(num * (dec ? 10 : 16) + static_cast<std::uint32_t>(digit),
                                  0x110000);
  }
  if (k < name.size() && name[k] == ';') ++k;
  append_numeric_symbol(num, out);
  return k;
}

// A named reference at name[i] ('&' not followed by '#'): the index after
// what it consumed. Only html5's "period;", "sol;" and "bsol;" produce
// symbols that matter. Any other reference yields a non-empty replacement of
// its alphanumeric prefix followed by the rest literally, or stays literal:
// in symbols, an 'x' for the '&' and the text as is.
size_t named_reference(string_view name, size_t i, string& out) {
  const size_t j = i + 1;
  size_t k = j;
  while (k < name.size() && name[k] != '\t' && name[k] != '\n' && name[k] != '\f' &&
         name[k] != ' ' && name[k] != '<' && name[k] != '&' && name[k] != '#' && name[k] != ';') {
    ++k;
  }
  const string_view entity = name.substr(j, k - j);
  const bool semicolon = k < name.size() && name[k] == ';';
  if (semicolon && (entity == "period" || entity == "sol" || entity == "bsol")) {
    out += entity == "period" ? '.' : (entity == "sol" ? '/' : '\\');
    return k + 1;
  }
  out += 'x';
  return j;
}

// Appends to `out` one symbol per character html.unescape(name) produces
// (html._charref: &(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?)).
void unescape_symbols(string_view name, string& out) {
  for (size_t i = 0; i < name.size();) {
    if (name[i] != '&') {
      append_symbol(name[i], out);
      ++i;
    } else if (i + 1 < name.size() && name[i + 1] == '#') {
      const size_t end = numeric_reference(name, i, out);
      if (end != kNpos) {
        i = end;
      } else {
        append_symbol('&', out);  // "&#" without digits is literal text
        ++i;
      }
    } else {
      i = named_reference(name, i, out);
    }
  }
}

}  // namespace

bool file_name_sanitizes_to_none(string_view name) {
  string symbols;
  if (name.find('&') == kNpos) {
    symbols = string(name);
  } else {
    unescape_symbols(name, symbols);
  }
  const size_t slash = symbols.find_last_of("/\\");
  const string_view last =
      slash == kNpos ? string_view(symbols) : string_view(symbols).substr(slash + 1);
  return last.empty() || last == "." || last == "..";
}

}  // namespace cjs::server::form
