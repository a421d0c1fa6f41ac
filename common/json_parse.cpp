// Mirrors the control flow of CPython 3.11's C scanner (Modules/_json.c) so that
// the first error found, its message and its position are the same.
#include "common/json_parse.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/python_repr.h"
#include "common/utf8.h"

namespace cjs::json {
namespace {

// CPython's default sys.get_int_max_str_digits() (PEP 651 hardening, 3.11).
constexpr std::size_t kMaxIntDigits = 4300;

int hex_value(char ch) {
  if (ch >= '0' && ch <= '9') return ch - '0';
  if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
  if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
  return -1;
}

bool is_digit(char ch) { return ch >= '0' && ch <= '9'; }

bool is_whitespace(char ch) { return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r'; }

// JSONDecodeError's text; positions are in code points of the decoded text, so
// they are only computed (linearly) once an error has happened.
std::string decode_error(std::string_view msg, std::string_view text, std::size_t byte_pos) {
  std::size_t chars = 0;
  std::size_t line = 1;
  std::size_t last_newline = 0;  // code point index of the last '\n', plus one
  for (std::size_t i = 0; i < byte_pos && i < text.size();
       i += utf8::step(text, i, utf8::Form::kUtf8).length) {
    if (text[i] == '\n') {
      ++line;
      last_newline = chars + 1;
    }
    ++chars;
  }
  const std::size_t column = chars + 1 - last_newline;
  std::string out(msg);
  out += ": line " + std::to_string(line) + " column " + std::to_string(column) + " (char " +
         std::to_string(chars) + ")";
  return out;
}

// Python dict semantics for repeated keys: the last value wins, the key keeps
// the position of its first occurrence.
void remove_duplicate_keys(Object& members) {
  constexpr std::size_t kLinearScanLimit = 16;
  std::size_t kept = 0;
  if (members.size() <= kLinearScanLimit) {
    for (std::size_t i = 0; i < members.size(); ++i) {
      std::size_t j = 0;
      while (j < kept && members[j].first != members[i].first) ++j;
      if (j < kept) {
        members[j].second = std::move(members[i].second);
      } else {
        if (kept != i) members[kept] = std::move(members[i]);
        ++kept;
      }
    }
  } else {
    // Views point at members[0, kept), which are never moved again.
    std::unordered_map<std::string_view, std::size_t> index;
    index.reserve(members.size());
    for (std::size_t i = 0; i < members.size(); ++i) {
      const auto found = index.find(members[i].first);
      if (found != index.end()) {
        members[found->second].second = std::move(members[i].second);
      } else {
        if (kept != i) members[kept] = std::move(members[i]);
        index.emplace(members[kept].first, kept);
        ++kept;
      }
    }
  }
  members.resize(kept, Member{});
}

// std::from_chars reports overflow and underflow without a value; CPython
// gives ±inf and ±0.0. Out-of-range numbers have their leading significant
// digit at a decimal exponent >= 308 or <= -324, so its sign tells which.
double out_of_range_value(std::string_view spelling) {
  const bool negative = spelling.front() == '-';
  const std::string_view unsigned_part = spelling.substr(negative ? 1 : 0);
  const std::size_t e = unsigned_part.find_first_of("eE");
  const std::string_view mantissa = unsigned_part.substr(0, e);
  const std::size_t point = std::min(mantissa.find('.'), mantissa.size());
  const std::size_t first = mantissa.find_first_of("123456789");
  long long exponent = 0;
  if (e != std::string_view::npos) {
    std::size_t k = e + 1;
    const bool exponent_negative = unsigned_part[k] == '-';
    if (unsigned_part[k] == '-' || unsigned_part[k] == '+') ++k;
    for (; k < unsigned_part.size(); ++k) {
      // Saturate: such exponents are far outside double's range anyway.
      if (exponent < 1'000'000'000) exponent = exponent * 10 + (unsigned_part[k] - '0');
    }
    if (exponent_negative) exponent = -exponent;
  }
  double magnitude = 0.0;
  if (first != std::string_view::npos) {
    const long long leading = first < point ? static_cast<long long>(point - first) - 1
                                            : -static_cast<long long>(first - point);
    if (leading + exponent > 0) magnitude = std::numeric_limits<double>::infinity();
  }
  return negative ? -magnitude : magnitude;
}

struct Failure {
  std::string message;
};

class Parser {
 public:
  Parser(std::string_view text, std::size_t max_values) : text_(text), values_left_(max_values) {}

  ParseResult run();

 private:
  // One open container; kept on an explicit stack so input depth never turns
  // into C++ stack depth.
  struct Frame {
    bool is_object = false;
    Array array;
    Object object;
    std::string key;  // key of the member whose value is being parsed
  };

  [[noreturn]] void fail_at(std::string_view msg, std::size_t pos) const {
    throw Failure{decode_error(msg, text_, pos)};
  }

  bool at(char ch) const { return pos_ < text_.size() && text_[pos_] == ch; }

  bool starts_with(std::string_view word) const { return text_.substr(pos_).starts_with(word); }

  void skip_whitespace() {
    while (pos_ < text_.size() && is_whitespace(text_[pos_])) ++pos_;
  }

  std::string parse_string();
  void parse_key(std::string& key);
  Value parse_scalar();
  Value parse_number();
  Value constant(std::string_view word, Value value) {
    pos_ += word.size();
    return value;
  }

  // One more value or key; fails once the budget is spent.
  void spend() {
    if (values_left_ == 0) throw Failure{std::string(kTooManyValues)};
    --values_left_;
  }

  std::string_view text_;
  std::size_t pos_ = 0;
  std::size_t values_left_;
};

ParseResult Parser::run() {
  if (text_.starts_with("\xEF\xBB\xBF")) {
    fail_at("Unexpected UTF-8 BOM (decode using utf-8-sig)", 0);
  }
  skip_whitespace();
  std::vector<Frame> stack;
  Value value;
  for (;;) {
    // Here a value starts at pos_ (whitespace skipped). Containers are opened
    // and the loop restarts for their first element; scalars fall through.
    const char open = pos_ < text_.size() ? text_[pos_] : '\0';
    spend();
    if (open == '[' || open == '{') {
      if (stack.size() >= kMaxNestingDepth) {
        throw Failure{std::string("maximum recursion depth exceeded while decoding a JSON ") +
                      (open == '{' ? "object" : "array") + " from a unicode string"};
      }
      ++pos_;
      skip_whitespace();
      if (open == '[') {
        if (at(']')) {
          ++pos_;
          value = Array{};
        } else {
          stack.emplace_back();
          continue;
        }
      } else {
        if (at('}')) {
          ++pos_;
          value = Object{};
        } else {
          stack.emplace_back().is_object = true;
          parse_key(stack.back().key);
          continue;
        }
      }
    } else {
      value = parse_scalar();
    }

    // Store the finished value in its container, closing every container that
    // ends right after it, until one expects another element.
    for (;;) {
      if (stack.empty()) {
        skip_whitespace();
        if (pos_ != text_.size()) fail_at("Extra data", pos_);
        return ParseResult{std::move(value), {}};
      }
      Frame& frame = stack.back();
      if (frame.is_object) {
        frame.object.emplace_back(std::move(frame.key), std::move(value));
      } else {
        frame.array.push_back(std::move(value));
      }
      skip_whitespace();
      if (at(frame.is_object ? '}' : ']')) {
        ++pos_;
        if (frame.is_object) {
          remove_duplicate_keys(frame.object);
          value = std::move(frame.object);
        } else {
          value = std::move(frame.array);
        }
        stack.pop_back();
        continue;
      }
      if (!at(',')) fail_at("Expecting ',' delimiter", pos_);
      ++pos_;
      skip_whitespace();
      if (frame.is_object) parse_key(frame.key);
      break;
    }
  }
}

void Parser::parse_key(std::string& key) {
  if (!at('"')) fail_at("Expecting property name enclosed in double quotes", pos_);
  spend();
  key = parse_string();
  skip_whitespace();
  if (!at(':')) fail_at("Expecting ':' delimiter", pos_);
  ++pos_;
  skip_whitespace();
}

Value Parser::parse_scalar() {
  // The literal checks mirror scan_once_unicode: a failed literal falls back to
  // number matching, which then reports "Expecting value" at the same place.
  if (pos_ >= text_.size()) fail_at("Expecting value", pos_);
  switch (text_[pos_]) {
    case '"':
      return parse_string();
    case 'n':
      if (starts_with("null")) return constant("null", nullptr);
      break;
    case 't':
      if (starts_with("true")) return constant("true", true);
      break;
    case 'f':
      if (starts_with("false")) return constant("false", false);
      break;
    case 'N':
      if (starts_with("NaN")) return constant("NaN", Number{"NaN", false});
      break;
    case 'I':
      if (starts_with("Infinity")) return constant("Infinity", Number{"Infinity", false});
      break;
    case '-':
      if (starts_with("-Infinity")) return constant("-Infinity", Number{"-Infinity", false});
      break;
    default:
      break;
  }
  return parse_number();
}

Value Parser::parse_number() {
  const std::size_t start = pos_;
  const std::size_t size = text_.size();
  std::size_t i = pos_;
  if (text_[i] == '-') ++i;
  if (i < size && text_[i] >= '1' && text_[i] <= '9') {
    ++i;
    while (i < size && is_digit(text_[i])) ++i;
  } else if (i < size && text_[i] == '0') {
    ++i;
  } else {
    fail_at("Expecting value", start);
  }
  bool is_float = false;
  if (i + 1 < size && text_[i] == '.' && is_digit(text_[i + 1])) {
    is_float = true;
    i += 2;
    while (i < size && is_digit(text_[i])) ++i;
  }
  if (i + 1 < size && (text_[i] == 'e' || text_[i] == 'E')) {
    // An exponent without digits is not part of the number (it then becomes
    // "Extra data" or a delimiter error), as in Python's regex.
    const std::size_t exponent_start = i++;
    if (i + 1 < size && (text_[i] == '-' || text_[i] == '+')) ++i;
    const std::size_t digits_start = i;
    while (i < size && is_digit(text_[i])) ++i;
    if (i > digits_start) {
      is_float = true;
    } else {
      i = exponent_start;
    }
  }
  const std::string_view spelling = text_.substr(start, i - start);
  pos_ = i;

  if (!is_float) {
    const bool negative = spelling[0] == '-';
    const std::size_t digits = spelling.size() - (negative ? 1 : 0);
    if (digits > kMaxIntDigits) {
      // int() raises ValueError, which json.loads lets through unchanged.
      throw Failure{"Exceeds the limit (4300 digits) for integer string conversion: value has " +
                    std::to_string(digits) +
                    " digits; use sys.set_int_max_str_digits() to increase the limit"};
    }
    if (spelling == "-0") return Number{"0", true};
    return Number{std::string(spelling), true};
  }

  double parsed = 0.0;
  const auto result = std::from_chars(spelling.data(), spelling.data() + spelling.size(), parsed);
  if (result.ec == std::errc::result_out_of_range) parsed = out_of_range_value(spelling);
  return Number{python_float_repr(parsed), false};
}

std::string Parser::parse_string() {
  const std::size_t begin = pos_;
  const std::size_t size = text_.size();
  std::size_t i = pos_ + 1;
  std::string out;
  for (;;) {
    // Copy the run up to the next quote or backslash in bulk.
    std::size_t run = i;
    while (i < size) {
      const auto byte = static_cast<unsigned char>(text_[i]);
      if (byte == '"' || byte == '\\') break;
      if (byte < 0x20) fail_at("Invalid control character at", i);
      if (byte < 0x80) {
        ++i;
        continue;
      }
      // The text is what Django decoded: strict UTF-8, surrogates invalid.
      const utf8::Step step = utf8::step(text_, i, utf8::Form::kUtf8);
      if (!step.valid) {
        out.append(text_, run, i - run);
        out += utf8::kReplacement;
        run = i + step.length;
      }
      i += step.length;
    }
    out.append(text_, run, i - run);
    if (i >= size) fail_at("Unterminated string starting at", begin);
    if (text_[i] == '"') {
      pos_ = i + 1;
      return out;
    }

    // A backslash escape.
    ++i;
    if (i >= size) fail_at("Unterminated string starting at", begin);
    const char escape = text_[i];
    switch (escape) {
      case '"':
      case '\\':
      case '/':
        out += escape;
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case 'u':
        break;
      default:
        fail_at("Invalid \\escape", i - 1);
    }
    if (escape != 'u') {
      ++i;
      continue;
    }

    // \uXXXX. CPython wants at least one more character after the four
    // digits (the string must still be closed), and reports every problem at
    // the 'u'.
    const auto read_hex4 = [this, size](std::size_t u) -> int {
      if (u + 5 >= size) return -1;
      int cp = 0;
      for (std::size_t k = u + 1; k <= u + 4; ++k) {
        const int digit = hex_value(text_[k]);
        if (digit < 0) return -1;
        cp = cp * 16 + digit;
      }
      return cp;
    };
    int cp = read_hex4(i);
    if (cp < 0) fail_at("Invalid \\uXXXX escape", i);
    i += 5;
    if (cp >= 0xD800 && cp <= 0xDBFF && i + 1 < size && text_[i] == '\\' && text_[i + 1] == 'u') {
      // A following low surrogate escape completes the pair; anything else
      // (including a bad escape, reported when the loop reaches it) leaves
      // this one a lone surrogate.
      const int low = read_hex4(i + 1);
      if (low >= 0xDC00 && low <= 0xDFFF) {
        cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
        i += 6;
      }
    }
    utf8::append(out, static_cast<char32_t>(cp));  // WTF-8: a lone surrogate stays
  }
}

}  // namespace

ParseResult parse(std::string_view utf8_text, const ParseBudget& budget) {
  try {
    return Parser(utf8_text, budget.max_values).run();
  } catch (Failure& failure) {
    return ParseResult{std::nullopt, ParseError{std::move(failure.message)}};
  }
}

ParseResult parse(std::string_view utf8_text) {
  return parse(utf8_text, ParseBudget{std::numeric_limits<std::size_t>::max()});
}

}  // namespace cjs::json
