// CPython's textual representations that the API exposes byte for byte.
#pragma once

#include <string>
#include <string_view>

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

}  // namespace cjs
