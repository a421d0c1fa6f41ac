#include "common/python_repr.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <system_error>

namespace cjs {

std::string python_bytes_repr(std::string_view data) {
  static constexpr char kHex[] = "0123456789abcdef";
  // CPython prefers single quotes; it switches only when that avoids escaping.
  const bool has_single = data.find('\'') != std::string_view::npos;
  const bool has_double = data.find('"') != std::string_view::npos;
  const char quote = (has_single && !has_double) ? '"' : '\'';

  std::string out;
  out.reserve(data.size() + 3);
  out += 'b';
  out += quote;
  for (const char ch : data) {
    const auto byte = static_cast<unsigned char>(ch);
    if (ch == quote || ch == '\\') {
      out += '\\';
      out += ch;
    } else if (ch == '\t') {
      out += "\\t";
    } else if (ch == '\n') {
      out += "\\n";
    } else if (ch == '\r') {
      out += "\\r";
    } else if (byte < 0x20 || byte >= 0x7f) {
      out += "\\x";
      out += kHex[byte >> 4];
      out += kHex[byte & 0xf];
    } else {
      out += ch;
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

}  // namespace cjs
