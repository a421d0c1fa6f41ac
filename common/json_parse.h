// A JSON parser that accepts exactly what CPython 3.11's json.loads accepts
// and fails with the same messages (the API echoes them in check 4 of
// api.md section 2.2).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/json_value.h"

namespace cjs::json {

struct ParseError {
  // Python's str(exception), e.g.
  //   "Expecting value: line 1 column 1 (char 0)"
  //   "maximum recursion depth exceeded while decoding a JSON array from a unicode string"
  std::string message;
};

struct ParseResult {
  std::optional<Value> value;  // set on success
  ParseError error;            // meaningful when !value

  explicit operator bool() const { return value.has_value(); }
};

// Nesting deeper than this fails like CPython's RecursionError does.
inline constexpr std::size_t kMaxNestingDepth = 1000;

// Parses UTF-8 text. Invalid UTF-8 is decoded as U+FFFD per invalid byte
// (as Django's form decoding does before json.loads sees the text);
// positions in messages count code points, as Python's do.
ParseResult parse(std::string_view utf8_text);

// A budget for text from an untrusted writer: every value and every object
// key costs one, and a tree costs about 50-80 bytes per value whatever the
// text's size, so `[0,0,...]` is 25x its length in memory. The parse stops
// with kTooManyValues once the budget is spent.
struct ParseBudget {
  std::size_t max_values = 0;
};
inline constexpr std::string_view kTooManyValues = "too many values";
ParseResult parse(std::string_view utf8_text, const ParseBudget& budget);

}  // namespace cjs::json
