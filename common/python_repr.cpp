#include "common/python_repr.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <iterator>
#include <system_error>

#include "common/utf8.h"

namespace cjs {
namespace {

// CPython prefers single quotes; it switches only when that avoids escaping.
char repr_quote(std::string_view text) {
  const bool has_single = text.find('\'') != std::string_view::npos;
  const bool has_double = text.find('"') != std::string_view::npos;
  return (has_single && !has_double) ? '"' : '\'';
}

// Non-ASCII code points that str.isprintable() rejects and whose category is
// stable across Unicode versions: Cc, Cf, Zs, Zl, Zp, Co, Cs and the
// noncharacters (generated from CPython 3.11's unicodedata). Unassigned code
// points (Cn) are deliberately treated as printable: which ones are unassigned
// depends on the reference's Python version, and new characters are printable.
struct CodePointRange {
  std::uint32_t first;
  std::uint32_t last;
};
constexpr CodePointRange kNonPrintable[] = {
    {0x80, 0xA0},        {0xAD, 0xAD},       {0x600, 0x605},     {0x61C, 0x61C},
    {0x6DD, 0x6DD},      {0x70F, 0x70F},     {0x890, 0x891},     {0x8E2, 0x8E2},
    {0x1680, 0x1680},    {0x180E, 0x180E},   {0x2000, 0x200F},   {0x2028, 0x202F},
    {0x205F, 0x2064},    {0x2066, 0x206F},   {0x3000, 0x3000},   {0xD800, 0xF8FF},
    {0xFDD0, 0xFDEF},    {0xFEFF, 0xFEFF},   {0xFFF9, 0xFFFB},   {0xFFFE, 0xFFFF},
    {0x110BD, 0x110BD},  {0x110CD, 0x110CD}, {0x13430, 0x13438}, {0x1BCA0, 0x1BCA3},
    {0x1D173, 0x1D17A},  {0x1FFFE, 0x1FFFF}, {0x2FFFE, 0x2FFFF}, {0x3FFFE, 0x3FFFF},
    {0x4FFFE, 0x4FFFF},  {0x5FFFE, 0x5FFFF}, {0x6FFFE, 0x6FFFF}, {0x7FFFE, 0x7FFFF},
    {0x8FFFE, 0x8FFFF},  {0x9FFFE, 0x9FFFF}, {0xAFFFE, 0xAFFFF}, {0xBFFFE, 0xBFFFF},
    {0xCFFFE, 0xCFFFF},  {0xDFFFE, 0xDFFFF}, {0xE0001, 0xE0001}, {0xE0020, 0xE007F},
    {0xEFFFE, 0x10FFFF},
};

bool is_printable_non_ascii(std::uint32_t cp) {
  const auto* it = std::upper_bound(
      std::begin(kNonPrintable), std::end(kNonPrintable), cp,
      [](std::uint32_t value, const CodePointRange& range) { return value < range.first; });
  if (it == std::begin(kNonPrintable)) return true;
  return cp > std::prev(it)->last;
}

void append_hex(std::string& out, std::uint32_t value, int digits) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (int shift = (digits - 1) * 4; shift >= 0; shift -= 4) out += kHex[(value >> shift) & 0xF];
}

// The escape of an ASCII byte inside a str or bytes literal quoted with
// `quote`, shared by both reprs; DEL is \x7f in both.
void append_ascii(std::string& out, unsigned char byte, char quote) {
  if (byte == static_cast<unsigned char>(quote) || byte == '\\') {
    out += '\\';
    out += static_cast<char>(byte);
  } else if (byte == '\t') {
    out += "\\t";
  } else if (byte == '\n') {
    out += "\\n";
  } else if (byte == '\r') {
    out += "\\r";
  } else if (byte < 0x20 || byte == 0x7F) {
    out += "\\x";
    append_hex(out, byte, 2);
  } else {
    out += static_cast<char>(byte);
  }
}

// CPython's unicode_repr with a given quote.
void append_str_literal(std::string& out, std::string_view s, char quote) {
  out += quote;
  std::size_t pos = 0;
  while (pos < s.size()) {
    const auto byte = static_cast<unsigned char>(s[pos]);
    if (byte < 0x80) {
      append_ascii(out, byte, quote);
      ++pos;
      continue;
    }
    const utf8::Step step = utf8::step(s, pos, utf8::Form::kWtf8);
    if (!step.valid) {
      out += utf8::kReplacement;  // one per byte, not per invalid subpart
      ++pos;
      continue;
    }
    const char32_t cp = step.code_point;
    if (is_printable_non_ascii(cp)) {
      out.append(s.substr(pos, step.length));
    } else if (cp <= 0xFF) {
      out += "\\x";
      append_hex(out, cp, 2);
    } else if (cp <= 0xFFFF) {
      out += "\\u";
      append_hex(out, cp, 4);
    } else {
      out += "\\U";
      append_hex(out, cp, 8);
    }
    pos += step.length;
  }
  out += quote;
}

void append_str_repr(std::string& out, std::string_view s) {
  append_str_literal(out, s, repr_quote(s));
}

void append_repr(std::string& out, const json::Value& value) {
  if (value.is_null()) {
    out += "None";
  } else if (value.is_bool()) {
    out += value.as_bool() ? "True" : "False";
  } else if (value.is_number()) {
    // Number::text is already Python's spelling, except json's names for the
    // non-finite floats.
    const std::string& text = value.as_number().text;
    if (text == "Infinity") {
      out += "inf";
    } else if (text == "-Infinity") {
      out += "-inf";
    } else if (text == "NaN") {
      out += "nan";
    } else {
      out += text;
    }
  } else if (value.is_string()) {
    append_str_repr(out, value.as_string());
  } else if (value.is_array()) {
    out += '[';
    bool first = true;
    for (const auto& item : value.as_array()) {
      if (!first) out += ", ";
      first = false;
      append_repr(out, item);
    }
    out += ']';
  } else {
    out += '{';
    bool first = true;
    for (const auto& [key, item] : value.as_object()) {
      if (!first) out += ", ";
      first = false;
      append_str_repr(out, key);
      out += ": ";
      append_repr(out, item);
    }
    out += '}';
  }
}

}  // namespace

std::string python_bytes_repr(std::string_view data) {
  const char quote = repr_quote(data);
  std::string out;
  out.reserve(data.size() + 3);
  out += 'b';
  out += quote;
  for (const char ch : data) {
    const auto byte = static_cast<unsigned char>(ch);
    if (byte < 0x80) {
      append_ascii(out, byte, quote);
    } else {
      out += "\\x";
      append_hex(out, byte, 2);
    }
  }
  out += quote;
  return out;
}

std::string python_float_repr(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "Infinity" : "-Infinity";

  // Shortest round-trip digits in d.ddde±XX form; CPython's repr uses the same
  // shortest-digits criterion (David Gay's mode 0), only the layout differs.
  char buf[64];
  const auto result = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::scientific);
  const std::string_view sci(buf, static_cast<std::size_t>(result.ptr - buf));

  std::size_t i = 0;
  const bool negative = sci[0] == '-';
  if (negative) ++i;
  std::string digits;
  for (; i < sci.size() && sci[i] != 'e'; ++i) {
    if (sci[i] != '.') digits += sci[i];
  }
  int exponent = 0;
  ++i;  // 'e'
  const bool exponent_negative = sci[i] == '-';
  ++i;  // sign, always present in to_chars' scientific form
  for (; i < sci.size(); ++i) exponent = exponent * 10 + (sci[i] - '0');
  if (exponent_negative) exponent = -exponent;

  std::string out;
  if (negative) out += '-';
  const auto ndigits = static_cast<int>(digits.size());
  if (exponent < -4 || exponent >= 16) {
    out += digits[0];
    if (ndigits > 1) {
      out += '.';
      out.append(digits, 1);
    }
    out += 'e';
    out += exponent < 0 ? '-' : '+';
    const int magnitude = std::abs(exponent);
    if (magnitude < 10) out += '0';
    out += std::to_string(magnitude);
  } else if (exponent < 0) {
    out += "0.";
    out.append(static_cast<std::size_t>(-exponent - 1), '0');
    out += digits;
  } else {
    const int int_len = exponent + 1;
    if (ndigits <= int_len) {
      out += digits;
      out.append(static_cast<std::size_t>(int_len - ndigits), '0');
      out += ".0";
    } else {
      out.append(digits, 0, static_cast<std::size_t>(int_len));
      out += '.';
      out.append(digits, static_cast<std::size_t>(int_len));
    }
  }
  return out;
}

std::string python_str_repr(std::string_view wtf8) {
  std::string out;
  append_str_repr(out, wtf8);
  return out;
}

std::string python_str_literal(std::string_view wtf8) {
  std::string out;
  append_str_literal(out, wtf8, '\'');
  return out;
}

std::string python_str_set_repr(const std::vector<std::string>& items) {
  std::string out = "{";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ", ";
    append_str_repr(out, items[i]);
  }
  out += '}';
  return out;
}

std::string python_value_repr(const json::Value& value) {
  std::string out;
  append_repr(out, value);
  return out;
}

}  // namespace cjs
