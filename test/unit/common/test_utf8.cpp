// The one UTF-8/WTF-8 decoder (common/utf8.h): which bytes are valid in each
// form, how long an invalid subpart is, and the encoder it must agree with.
#include "common/utf8.h"

#include <catch2/catch.hpp>

#include <string>
#include <string_view>

namespace utf8 = cjs::utf8;
using utf8::Form;

namespace {

// The step at the start of `text`, in both forms when they must agree.
utf8::Step first(std::string_view text, Form form) { return utf8::step(text, 0, form); }

void check_valid(std::string_view text, char32_t code_point) {
  for (Form form : {Form::kUtf8, Form::kWtf8}) {
    const utf8::Step s = first(text, form);
    CHECK(s.valid);
    CHECK(s.length == text.size());
    CHECK(s.code_point == code_point);
  }
}

// Invalid in both forms, the first invalid subpart `length` bytes long.
void check_invalid(std::string_view text, std::size_t length) {
  for (Form form : {Form::kUtf8, Form::kWtf8}) {
    const utf8::Step s = first(text, form);
    CHECK_FALSE(s.valid);
    CHECK(s.length == length);
    CHECK(s.code_point == 0xFFFD);
  }
}

}  // namespace

TEST_CASE("utf8::step decodes every valid length at its bounds", "[utf8]") {
  check_valid("A", 'A');
  check_valid(std::string_view("\0", 1), 0);
  check_valid("\x7F", 0x7F);
  check_valid("\xC2\x80", 0x80);
  check_valid("\xC3\xA9", 0xE9);
  check_valid("\xDF\xBF", 0x7FF);
  check_valid("\xE0\xA0\x80", 0x800);
  check_valid("\xE2\x82\xAC", 0x20AC);
  check_valid("\xED\x9F\xBF", 0xD7FF);  // just below the surrogates
  check_valid("\xEE\x80\x80", 0xE000);  // just above
  check_valid("\xEF\xBF\xBF", 0xFFFF);
  check_valid("\xF0\x90\x80\x80", 0x10000);
  check_valid("\xF0\x9F\x98\x80", 0x1F600);
  check_valid("\xF4\x8F\xBF\xBF", 0x10FFFF);
}

TEST_CASE("utf8::step refuses overlong forms at the lead byte", "[utf8]") {
  check_invalid("\xC0\x80", 1);
  check_invalid("\xC1\xBF", 1);
  check_invalid("\xE0\x80\x80", 1);
  check_invalid("\xE0\x9F\xBF", 1);
  check_invalid("\xF0\x80\x80\x80", 1);
  check_invalid("\xF0\x8F\xBF\xBF", 1);
}

TEST_CASE("utf8::step: surrogates are invalid UTF-8 and valid WTF-8", "[utf8]") {
  for (const auto& [text, code_point] :
       {std::pair<std::string_view, char32_t>{"\xED\xA0\x80", 0xD800},
        {"\xED\xAF\xBF", 0xDBFF},
        {"\xED\xB0\x80", 0xDC00},
        {"\xED\xBF\xBF", 0xDFFF}}) {
    const utf8::Step strict = first(text, Form::kUtf8);
    CHECK_FALSE(strict.valid);
    CHECK(strict.length == 1);  // ED alone: A0..BF cannot follow it
    const utf8::Step wtf8 = first(text, Form::kWtf8);
    CHECK(wtf8.valid);
    CHECK(wtf8.length == 3);
    CHECK(wtf8.code_point == code_point);
  }
  // A surrogate pair spelled as two 3-byte sequences is two code points.
  const std::string_view pair = "\xED\xA0\xBD\xED\xB8\x80";
  CHECK(utf8::is_valid(pair, Form::kWtf8));
  CHECK_FALSE(utf8::is_valid(pair, Form::kUtf8));
  CHECK(utf8::step(pair, 3, Form::kWtf8).code_point == 0xDE00);
}

TEST_CASE("utf8::step: a truncated sequence is one invalid subpart", "[utf8]") {
  check_invalid("\xC3", 1);
  check_invalid("\xE2", 1);
  check_invalid("\xE2\x82", 2);
  check_invalid("\xF0\x9F", 2);
  check_invalid("\xF0\x9F\x98", 3);
  // Cut short by a byte that cannot continue it.
  check_invalid(
      "\xE2\x82"
      "A",
      2);
  check_invalid("\xF0\x9F\x98\xC3\xA9", 3);
  // The step never reads past the text it is given.
  CHECK(utf8::step(std::string_view("\xE2\x82\xAC", 2), 0, Form::kUtf8).length == 2);
}

TEST_CASE("utf8::step refuses what is beyond U+10FFFF or never a lead byte", "[utf8]") {
  check_invalid("\xF4\x90\x80\x80", 1);
  check_invalid("\xF5\x80\x80\x80", 1);
  check_invalid("\xF8\x88\x80\x80\x80", 1);
  check_invalid("\xFF", 1);
  check_invalid("\xFE", 1);
  check_invalid("\x80", 1);  // a lone continuation byte
  check_invalid("\xBF", 1);
}

TEST_CASE("utf8::append_decoded replaces each maximal invalid subpart once", "[utf8]") {
  const auto decoded = [](std::string_view bytes, Form form) {
    std::string out;
    utf8::append_decoded(out, bytes, form);
    return out;
  };
  const std::string fffd(utf8::kReplacement);
  CHECK(decoded("plain \xC3\xA9", Form::kUtf8) == "plain \xC3\xA9");
  CHECK(decoded("a\xE2\x82"
                "b",
                Form::kUtf8) == "a" + fffd + "b");
  CHECK(decoded("\xF0\x9F\x98", Form::kUtf8) == fffd);
  CHECK(decoded("\xC0\xAF", Form::kUtf8) == fffd + fffd);
  // Strict UTF-8: ED, A0 and 80 are three subparts; WTF-8 keeps the surrogate.
  CHECK(decoded("\xED\xA0\x80", Form::kUtf8) == fffd + fffd + fffd);
  CHECK(decoded("\xED\xA0\x80", Form::kWtf8) == "\xED\xA0\x80");
  CHECK(decoded("x\xFFy\xFE", Form::kWtf8) == "x" + fffd + "y" + fffd);
}

TEST_CASE("utf8::is_valid follows the form", "[utf8]") {
  CHECK(utf8::is_valid("", Form::kUtf8));
  CHECK(utf8::is_valid("caf\xC3\xA9 \xF0\x9F\x98\x80", Form::kUtf8));
  CHECK_FALSE(utf8::is_valid("caf\xC3", Form::kUtf8));
  CHECK_FALSE(utf8::is_valid("\xC0\x80", Form::kWtf8));
  CHECK_FALSE(utf8::is_valid("a\xED\xB0\x80", Form::kUtf8));
  CHECK(utf8::is_valid("a\xED\xB0\x80", Form::kWtf8));
}

TEST_CASE("utf8::last_step finds the character that ends the text", "[utf8]") {
  const utf8::Step euro = utf8::last_step("ab\xE2\x82\xAC", Form::kUtf8);
  CHECK(euro.valid);
  CHECK(euro.length == 3);
  CHECK(euro.code_point == 0x20AC);
  CHECK(utf8::last_step("\xF0\x9F\x98\x80", Form::kUtf8).code_point == 0x1F600);
  CHECK(utf8::last_step("a", Form::kUtf8).code_point == 'a');
  // A valid sequence followed by a stray continuation byte: the end is invalid.
  const utf8::Step stray = utf8::last_step("\xE2\x82\xAC\x80", Form::kUtf8);
  CHECK_FALSE(stray.valid);
  CHECK(stray.length == 1);
  CHECK_FALSE(utf8::last_step("\xE2\x82", Form::kUtf8).valid);
  CHECK_FALSE(utf8::last_step("\xED\xA0\x80", Form::kUtf8).valid);
  CHECK(utf8::last_step("\xED\xA0\x80", Form::kWtf8).code_point == 0xD800);
}

TEST_CASE("utf8::append encodes every code point as step decodes it", "[utf8]") {
  std::size_t mismatches = 0;
  for (char32_t cp = 0; cp < 0x110000; ++cp) {
    std::string encoded;
    utf8::append(encoded, cp);
    const bool surrogate = cp >= 0xD800 && cp <= 0xDFFF;
    const utf8::Step wtf8 = utf8::step(encoded, 0, Form::kWtf8);
    const utf8::Step strict = utf8::step(encoded, 0, Form::kUtf8);
    const bool ok = wtf8.valid && wtf8.length == encoded.size() && wtf8.code_point == cp &&
                    strict.valid == !surrogate;
    if (!ok) ++mismatches;
  }
  CHECK(mismatches == 0);
  std::string out;
  utf8::append(out, 0xD800);
  CHECK(out == "\xED\xA0\x80");  // the generic 3-byte form
}
