// CPython's textual representations that the API exposes byte for byte.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/json_value.h"

namespace cjs {

// repr(bytes): b'...' (or b"..." when the data holds ' and no "), with
// \\, the chosen quote, \t \n \r escaped, other bytes < 0x20 or >= 0x7f as
// \xhh (lower-case hex), the rest literal.
std::string python_bytes_repr(std::string_view data);

// repr(float) as json.dumps prints it: shortest round-trip digits, fixed
// notation with ".0" when the decimal exponent is in (-4, 16], otherwise
// d.ddde+XX / e-XX with at least two exponent digits; "NaN", "Infinity",
// "-Infinity" for the non-finite values; "-0.0" for negative zero.
std::string python_float_repr(double value);

// repr(str) of WTF-8 text (CPython's unicode_repr): '...' (or "..." when the
// text holds ' and no "), with \\, the chosen quote, \t \n \r escaped, other
// ASCII controls as \xhh, non-printable non-ASCII (str.isprintable) as
// \xhh, \uhhhh or \Uhhhhhhhh, the rest literal. Bytes that are not WTF-8
// (our JSON parser never produces them) become U+FFFD, one per byte.
std::string python_str_repr(std::string_view wtf8);

// The same escapes, always between single quotes: a str literal for Python
// source we generate, whose spelling must not depend on the text.
std::string python_str_literal(std::string_view wtf8);

// repr() of a Python set of strings. Python's set order is hash-dependent
// (randomized per process), so first-seen order is as good as any.
std::string python_str_set_repr(const std::vector<std::string>& items);

// Python's repr() of a JSON value as json.loads would have produced it
// ({'a': [1, 'x', None, True, 1.5]}); jsonschema quotes instances this way.
std::string python_value_repr(const json::Value& value);

}  // namespace cjs
