// What each former hand-written decoder's caller does with surrogates and
// invalid bytes, now that all of them step through common/utf8.h: the JSON
// parser (strict UTF-8 in, WTF-8 out), the JSON renderer and Python's repr
// (WTF-8 in), each with its own rule for bytes that are not.
#include <catch2/catch.hpp>

#include <string>
#include <string_view>

#include "common/json_parse.h"
#include "common/json_render.h"
#include "common/python_repr.h"

namespace json = cjs::json;

namespace {

const std::string kFffd = "\xEF\xBF\xBD";

// The string json.loads makes of the JSON text `literal` ("...").
std::string parsed_string(std::string_view literal) {
  json::ParseResult r = json::parse(literal);
  REQUIRE(r);
  REQUIRE(r.value->is_string());
  return r.value->as_string();
}

std::string parse_error(std::string_view text) {
  json::ParseResult r = json::parse(text);
  REQUIRE_FALSE(r);
  return r.error.message;
}

}  // namespace

TEST_CASE("JSON parse: \\u escapes of lone surrogates stay, as WTF-8", "[text]") {
  CHECK(parsed_string(R"("\ud800")") == "\xED\xA0\x80");
  CHECK(parsed_string(R"("\udfff!")") == "\xED\xBF\xBF!");
  // A high surrogate then a low one is one astral code point.
  CHECK(parsed_string(R"("\ud83d\ude00")") == "\xF0\x9F\x98\x80");
  // Reversed, or interrupted, they stay two lone surrogates.
  CHECK(parsed_string(R"("\ude00\ud83d")") == "\xED\xB8\x80\xED\xA0\xBD");
  CHECK(parsed_string(R"("\ud83dx\ude00")") == "\xED\xA0\xBDx\xED\xB8\x80");
}

TEST_CASE("JSON parse: raw bytes are strict UTF-8, one U+FFFD per invalid subpart", "[text]") {
  CHECK(parsed_string("\"caf\xC3\xA9\"") == "caf\xC3\xA9");
  CHECK(parsed_string("\"a\xE2\x82\"") == "a" + kFffd);
  CHECK(parsed_string("\"\xF0\x9F\x98!\"") == kFffd + "!");
  // An encoded surrogate is not UTF-8: three subparts, unlike the escape.
  CHECK(parsed_string("\"\xED\xA0\x80\"") == kFffd + kFffd + kFffd);
  CHECK(parsed_string("\"\xC0\xAF\xFF\"") == kFffd + kFffd + kFffd);
}

TEST_CASE("JSON parse: error positions count code points, invalid subparts as one", "[text]") {
  CHECK(parse_error("\"\xC3\xA9\xE2\x82\xAC\" x") == "Extra data: line 1 column 6 (char 5)");
  CHECK(parse_error("\"\xE2\x82\" x") == "Extra data: line 1 column 5 (char 4)");
  CHECK(parse_error("\"\xED\xA0\x80\" x") == "Extra data: line 1 column 7 (char 6)");
}

TEST_CASE("JSON render: lone surrogates are escaped, invalid bytes replaced", "[text]") {
  const json::Value lone(
      std::string("a\xED\xA0\x80"
                  "b"));
  CHECK(json::render_api(lone) == R"("a\ud800b")");
  CHECK(json::render_ascii(lone) == R"("a\ud800b")");
  // Valid non-ASCII stays raw in the API spelling, astral ones become a
  // surrogate pair in the ASCII one.
  const json::Value astral(std::string("\xC3\xA9\xF0\x9F\x98\x80"));
  CHECK(json::render_api(astral) == "\"\xC3\xA9\xF0\x9F\x98\x80\"");
  CHECK(json::render_ascii(astral) == R"("\u00e9\ud83d\ude00")");
  CHECK(json::quote_api("\xE2\x80\xA8") == R"("\u2028")");
  // Bytes that are not WTF-8 (our parser never produces them): one U+FFFD
  // per maximal invalid subpart, raw or escaped.
  const json::Value invalid(std::string("\xE2\x82|\xF0\x9F\x98|\xFF"));
  CHECK(json::render_api(invalid) == "\"" + kFffd + "|" + kFffd + "|" + kFffd + "\"");
  CHECK(json::render_ascii(invalid) == R"("\ufffd|\ufffd|\ufffd")");
}

TEST_CASE("Python repr: lone surrogates escaped, invalid bytes one U+FFFD each", "[text]") {
  CHECK(cjs::python_value_repr(json::Value(std::string("\xED\xA0\x80"))) == R"('\ud800')");
  CHECK(cjs::python_str_repr("\xED\xBF\xBFz") == R"('\udfffz')");
  CHECK(cjs::python_str_repr("\xC2\xA0\xC3\xA9\xF0\x9F\x98\x80\xF3\xA0\x80\x81") ==
        "'\\xa0\xC3\xA9\xF0\x9F\x98\x80\\U000e0001'");
  // Unlike the JSON side, the repr replaces invalid bytes one per byte.
  CHECK(cjs::python_str_repr("\xE2\x82") == "'" + kFffd + kFffd + "'");
  CHECK(cjs::python_str_repr("\xF0\x9F\x98!") == "'" + kFffd + kFffd + kFffd + "!'");
}

TEST_CASE("Python str literals: repr picks the quote, the literal always uses '", "[text]") {
  CHECK(cjs::python_str_repr("it's") == R"("it's")");
  CHECK(cjs::python_str_literal("it's") == R"('it\'s')");
  CHECK(cjs::python_str_repr("'\"") == R"('\'"')");
  CHECK(cjs::python_str_literal("a\\b\n\x7F\xC2\x85") == R"('a\\b\n\x7f\x85')");
  CHECK(cjs::python_str_set_repr({"python_lib.zip", "it's"}) == R"({'python_lib.zip', "it's"})");
}
