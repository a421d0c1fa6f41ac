// Expected strings were produced with CPython 3.11:
//   render_api:   json.dumps(v, ensure_ascii=False, separators=(',', ':'))
//                 with U+2028/U+2029 then escaped;
//   render_ascii: json.dumps(v, separators=(',', ':')).
#include <catch2/catch.hpp>

#include <string>

#include "common/json_parse.h"
#include "common/json_render.h"
#include "common/json_value.h"

namespace {

using cjs::json::Array;
using cjs::json::Number;
using cjs::json::Object;
using cjs::json::render_api;
using cjs::json::render_ascii;
using cjs::json::Value;

Value integer(const char* digits) { return Number{digits, true}; }
Value floating(const char* repr) { return Number{repr, false}; }

}  // namespace

TEST_CASE("render scalars and containers compactly", "[json]") {
  CHECK(render_api(nullptr) == "null");
  CHECK(render_api(true) == "true");
  CHECK(render_api(false) == "false");
  CHECK(render_api(integer("-1180591620717411303424")) == "-1180591620717411303424");
  CHECK(render_api(floating("1e+16")) == "1e+16");
  CHECK(render_api(Array{}) == "[]");
  CHECK(render_api(Object{}) == "{}");
  // {"a": [1, 2.5, None, True, False, {}, []], "é": {"x": nan, "y": -inf}}
  const Value value(Object{
      {"a", Array{integer("1"), floating("2.5"), nullptr, true, false, Object{}, Array{}}},
      {"\xc3\xa9", Object{{"x", floating("NaN")}, {"y", floating("-Infinity")}}},
  });
  CHECK(render_api(value) ==
        "{\"a\":[1,2.5,null,true,false,{},[]],\"\xc3\xa9\":{\"x\":NaN,\"y\":-Infinity}}");
  CHECK(render_ascii(value) ==
        R"({"a":[1,2.5,null,true,false,{},[]],"\u00e9":{"x":NaN,"y":-Infinity}})");
}

TEST_CASE("string escapes in both spellings", "[json]") {
  // '\x00\x1f\x08\x0c\n\r\t"\\/'
  const Value controls(std::string("\x00\x1f\b\f\n\r\t\"\\/", 10));
  CHECK(render_api(controls) == R"("\u0000\u001f\b\f\n\r\t\"\\/")");
  CHECK(render_ascii(controls) == R"("\u0000\u001f\b\f\n\r\t\"\\/")");
  // DEL stays raw unless ensure_ascii.
  CHECK(render_api("\x7f") == "\"\x7f\"");
  CHECK(render_ascii("\x7f") == R"("\u007f")");
  // Other ASCII punctuation is never escaped.
  CHECK(render_api(" !#~'<>&") == R"(" !#~'<>&")");
}

TEST_CASE("non-ASCII is raw in the API spelling, escaped in the ASCII one", "[json]") {
  CHECK(render_api("\xc3\xa9") == "\"\xc3\xa9\"");
  CHECK(render_ascii("\xc3\xa9") == R"("\u00e9")");
  CHECK(render_api("\xe2\x82\xac") == "\"\xe2\x82\xac\"");
  CHECK(render_ascii("\xe2\x82\xac") == R"("\u20ac")");
  // U+1F600: surrogate pair, lower-case hex.
  CHECK(render_api("\xf0\x9f\x98\x80") == "\"\xf0\x9f\x98\x80\"");
  CHECK(render_ascii("\xf0\x9f\x98\x80") == R"("\ud83d\ude00")");
  CHECK(render_ascii("\xf4\x8f\xbf\xbf") == R"("\udbff\udfff")");
}

TEST_CASE("U+2028 and U+2029 are escaped in the API spelling", "[json]") {
  CHECK(render_api("a\u2028b\u2029c") == R"("a\u2028b\u2029c")");
  CHECK(render_ascii("a\u2028b\u2029c") == R"("a\u2028b\u2029c")");
  // Keys too: the reference escapes the whole rendered text.
  CHECK(render_api(Object{{"\xe2\x80\xa8", integer("1")}}) == R"({"\u2028":1})");
}

TEST_CASE("lone surrogates are emitted as escapes, never as invalid UTF-8", "[json]") {
  CHECK(render_api("\xed\xa0\x80") == R"("\ud800")");
  CHECK(render_ascii("\xed\xa0\x80") == R"("\ud800")");
  CHECK(render_api("a\xed\xb0\x80z") == R"("a\udc00z")");
  CHECK(render_ascii("a\xed\xb0\x80z") == R"("a\udc00z")");
  CHECK(render_api(Object{{"\xed\xbf\xbf", nullptr}}) == R"({"\udfff":null})");
}

TEST_CASE("bytes that are not WTF-8 render as U+FFFD", "[json]") {
  // Our parser never produces these; the renderer must still emit valid UTF-8.
  CHECK(render_api("a\xffz") == "\"a\xef\xbf\xbdz\"");
  CHECK(render_ascii("a\xffz") == R"("a\ufffdz")");
  CHECK(render_api("\xe2\x82") == "\"\xef\xbf\xbd\"");
  CHECK(render_api("\xc0\xaf") == "\"\xef\xbf\xbd\xef\xbf\xbd\"");
}

TEST_CASE("quote_api", "[json]") {
  CHECK(cjs::json::quote_api("") == R"("")");
  CHECK(cjs::json::quote_api("say \"hi\"\n") == R"("say \"hi\"\n")");
  CHECK(cjs::json::quote_api("\xc3\xa9\xe2\x80\xa8") == "\"\xc3\xa9\\u2028\"");
}

TEST_CASE("parse and render_ascii agree on round trips", "[json]") {
  const char* const texts[] = {
      R"({"b":[1,-0.0,1e-05,"\u00e9\ud800\ud83d\ude00"],"a":{"":null}})",
      R"([[[[]]],{},"\u0000\u007f"])",
  };
  for (const char* text : texts) {
    INFO(text);
    const auto parsed = cjs::json::parse(text);
    REQUIRE(parsed);
    CHECK(render_ascii(*parsed.value) == text);
  }
}

TEST_CASE("find_member and set_member follow dict semantics", "[json]") {
  Object object{{"a", integer("1")}, {"b", integer("2")}};
  REQUIRE(cjs::json::find_member(object, "b") != nullptr);
  CHECK(*cjs::json::find_member(object, "b") == integer("2"));
  CHECK(cjs::json::find_member(object, "c") == nullptr);
  cjs::json::set_member(object, "a", "x");
  cjs::json::set_member(object, "c", nullptr);
  CHECK(render_api(object) == R"({"a":"x","b":2,"c":null})");
}
