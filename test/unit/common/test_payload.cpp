// Tests for checks 4-8 of api.md 2.2 and for python_value_repr. The expected
// schema messages were produced by the reference's validator (jsonschema 4.26,
// Draft 2020-12 via jsonschema.validate) on the same inputs.
#include <catch2/catch.hpp>

#include <string>
#include <utility>
#include <vector>

#include "common/json_parse.h"
#include "common/log.h"
#include "common/payload.h"
#include "common/python_repr.h"

namespace {

using cjs::check_payload;
using cjs::PayloadCheck;

std::string repr_of(const std::string& json_text) {
  auto parsed = cjs::json::parse(json_text);
  REQUIRE(parsed);
  return cjs::python_value_repr(*parsed.value);
}

PayloadCheck check(const std::string& text, const std::vector<std::string>& files = {}) {
  return check_payload(text, files);
}

}  // namespace

TEST_CASE("python_value_repr matches Python's repr of json.loads output", "[payload]") {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"("it's")", R"("it's")"},
      {R"("say \"hi\" it's")", R"('say "hi" it\'s')"},
      {R"("a\\b")", R"('a\\b')"},
      {R"("\t\n\r\u0000\u001f\u007f")", R"('\t\n\r\x00\x1f\x7f')"},
      {R"("\u00e9\u0085\u00a0\u00ad\u00a1")", R"('é\x85\xa0\xad¡')"},
      {R"("\u2028\u200b\ufeff\u3000\u4e2d")", R"('\u2028\u200b\ufeff\u3000中')"},
      {R"("\ud800x\udfff\udc00\ud800\ud83d\ude00")", R"('\ud800x\udfff\udc00\ud800😀')"},
      {R"("\udb40\udc01\udbff\udffd")", R"('\U000e0001\U0010fffd')"},
      {R"("\"")", R"('"')"},
      {R"("'\"")", R"('\'"')"},
      {R"([])", R"([])"},
      {R"({})", R"({})"},
      {R"({"a": [1, "x", null, true, false, 1.5]})", R"({'a': [1, 'x', None, True, False, 1.5]})"},
      {R"([1e400, -1e400, NaN, -0.0, 1E16, 0.00001, 123456789012345678901234567890, -0])",
       R"([inf, -inf, nan, -0.0, 1e+16, 1e-05, 123456789012345678901234567890, 0])"},
      {R"({"k": {"n": []}, "'": 2})", R"({'k': {'n': []}, "'": 2})"},
  };
  for (const auto& [json_text, expected] : cases) {
    INFO(json_text);
    CHECK(repr_of(json_text) == expected);
  }
}

TEST_CASE("python_value_repr escapes non-printable non-ASCII like str.isprintable", "[payload]") {
  // Python: repr('\u1680\u180e\u061c\U000e0020\ue000\ufdd0\uffff\U000f0000')
  CHECK(repr_of(R"("\u1680\u180e\u061c\udb40\udc20\ue000\ufdd0\uffff\udb80\udc00")") ==
        R"('\u1680\u180e\u061c\U000e0020\ue000\ufdd0\uffff\U000f0000')");
  // Printable neighbours stay raw (U+00A1, U+2010, U+FFFD, U+1F600).
  CHECK(repr_of(R"("\u00a1\u2010\ufffd\ud83d\ude00")") == "'\u00a1\u2010\ufffd\U0001F600'");
  // Unassigned code points are printed raw (Python version dependent anyway).
  CHECK(repr_of(R"("\u0378")") == "'\u0378'");
}

TEST_CASE("check 4: payload that is not JSON", "[payload]") {
  auto result = check("");
  REQUIRE_FALSE(result.payload);
  CHECK(result.error.http_status == 400);
  CHECK(result.error.message ==
        "Unable to parse payload JSON: Expecting value: line 1 column 1 (char 0)");
  CHECK(result.error.telemetry_status == "invalid.payload.bad_json");
  CHECK(result.error.log_line ==
        "Payload was not valid JSON: Expecting value: line 1 column 1 (char 0)");

  result = check("{\"code\": ");
  REQUIRE_FALSE(result.payload);
  CHECK(result.error.message ==
        "Unable to parse payload JSON: Expecting value: line 1 column 10 (char 9)");
}

TEST_CASE("check 5: schema mismatch messages follow jsonschema's best_match", "[payload]") {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({})", R"($: 'code' is a required property)"},
      {R"({"code":"x"})", R"($: 'globals_dict' is a required property)"},
      {R"({"code": 5, "globals_dict": {}})", R"($.code: 5 is not of type 'string')"},
      {R"({"code": 5})", R"($: 'globals_dict' is a required property)"},
      {R"([])", R"($: [] is not of type 'object')"},
      {R"({"code":"x","globals_dict":[1]})", R"($.globals_dict: [1] is not of type 'object')"},
      {R"({"code":"x","globals_dict":{},"unsafely":null})",
       R"($.unsafely: None is not of type 'boolean')"},
      {R"({"code":5,"globals_dict":[]})", R"($.globals_dict: [] is not of type 'object')"},
      {R"({"code":5,"globals_dict":{},"unsafely":1})", R"($.unsafely: 1 is not of type 'boolean')"},
      {R"({"code":"x","globals_dict":{},"python_path":[5]})",
       R"($.python_path[0]: 5 is not of type 'string')"},
      {R"({"code":"x","globals_dict":{},"python_path":5})",
       R"($.python_path: 5 is not valid under any of the given schemas)"},
      {R"({"code":"x","globals_dict":{},"python_path":"x"})",
       R"($.python_path: 'x' is not valid under any of the given schemas)"},
      {R"({"code":"x","globals_dict":{},"python_path":["a",5,6]})",
       R"($.python_path[1]: 5 is not of type 'string')"},
      {R"({"code":"x","globals_dict":{},"python_path":["a",5,6],"code":1})",
       R"($.python_path[1]: 5 is not of type 'string')"},
      {R"({"code":"x","globals_dict":{},"python_path":[5],"slug":3})",
       R"($.slug: 3 is not valid under any of the given schemas)"},
      {R"({"code":"x","globals_dict":{},"python_path":[5],"unsafely":3})",
       R"($.unsafely: 3 is not of type 'boolean')"},
      {R"({"code":"x","globals_dict":{},"python_path":[5], "limit_overrides_context":[]})",
       R"($.python_path[0]: 5 is not of type 'string')"},
      {R"({"code":"x","globals_dict":{},"slug":1.0e400})",
       R"($.slug: inf is not valid under any of the given schemas)"},
      {R"({"code":"x","globals_dict":{},"slug":{"a":[1,-0.0,1e16,1e-5,NaN,-Infinity,true,null]}})",
       R"($.slug: {'a': [1, -0.0, 1e+16, 1e-05, nan, -inf, True, None]})"
       R"( is not valid under any of the given schemas)"},
      {R"({"code":"x","globals_dict":{},"python_path":[null]})",
       R"($.python_path[0]: None is not of type 'string')"},
      {R"("x")", R"($: 'x' is not of type 'object')"},
      {R"(null)", R"($: None is not of type 'object')"},
      {R"(5)", R"($: 5 is not of type 'object')"},
      {R"({"code":true,"globals_dict":{}})", R"($.code: True is not of type 'string')"},
      {R"({"code":"x","globals_dict":true})", R"($.globals_dict: True is not of type 'object')"},
      {R"({"code":"x","globals_dict":{},"unsafely":0})",
       R"($.unsafely: 0 is not of type 'boolean')"},
      {R"({"code":"x","globals_dict":{},"python_path":[[1]]})",
       R"($.python_path[0]: [1] is not of type 'string')"},
      {R"({"code":"x","globals_dict":{},"python_path":[1],"limit_overrides_context":5})",
       R"($.python_path[0]: 1 is not of type 'string')"},
      {R"({"code":"x","globals_dict":{},"limit_overrides_context":false,"slug":null})",
       R"($.limit_overrides_context: False is not valid under any of the given schemas)"},
      {R"({"code":"x","globals_dict":{"a":1,"b":[1.0]},"python_path":{"x":1}})",
       R"($.python_path: {'x': 1} is not valid under any of the given schemas)"},
  };
  for (const auto& [json_text, expected] : cases) {
    INFO(json_text);
    auto result = check(json_text);
    REQUIRE_FALSE(result.payload);
    CHECK(result.error.http_status == 400);
    CHECK(result.error.message == "Payload JSON did not match schema at path " + expected);
    CHECK(result.error.telemetry_status == "invalid.payload.schema_mismatch");
  }
}

TEST_CASE("check 5: a huge python_path of non-strings reports only the first item", "[payload]") {
  // Regression: one error object per bad item, and the repr of the whole
  // array, used to be built for a message that reports only item 0 (an 8 MiB
  // payload cost over 1 GB of memory). Before the fix this took seconds.
  std::string text = R"({"code":"x","globals_dict":{},"python_path":[)";
  constexpr std::size_t kItems = 2'000'000;
  text.reserve(text.size() + 2 * kItems + 2);
  for (std::size_t i = 0; i < kItems; ++i) text += i == 0 ? "0" : ",0";
  text += "]}";
  auto result = check(text);
  REQUIRE_FALSE(result.payload);
  CHECK(result.error.message ==
        "Payload JSON did not match schema at path $.python_path[0]: 0 is not of type 'string'");
  CHECK(result.error.telemetry_status == "invalid.payload.schema_mismatch");

  // The first bad item is reported wherever it is, and whatever follows it.
  text = R"({"code":"x","globals_dict":{},"python_path":[)";
  for (std::size_t i = 0; i < 100'000; ++i) text += R"("a",)";
  text += R"([1,"b"],0,null,"c"]})";
  result = check(text);
  REQUIRE_FALSE(result.payload);
  CHECK(result.error.message ==
        "Payload JSON did not match schema at path $.python_path[100000]: [1, 'b'] is not of type"
        " 'string'");
}

TEST_CASE("check 5: large wrong-typed values elsewhere still give the same messages", "[payload]") {
  std::string big = "[";
  for (int i = 0; i < 200'000; ++i) big += i == 0 ? "1" : ",1";
  big += "]";
  std::string big_repr = "[";
  for (int i = 0; i < 200'000; ++i) big_repr += i == 0 ? "1" : ", 1";
  big_repr += "]";
  const std::string prefix = "Payload JSON did not match schema at path ";
  // Not reported: a required property outranks them.
  CHECK(check(R"({"globals_dict":)" + big + "}").error.message ==
        prefix + "$: 'code' is a required property");
  CHECK(check(R"({"code":)" + big + "}").error.message ==
        prefix + "$: 'globals_dict' is a required property");
  CHECK(check(R"({"code":)" + big + R"(,"globals_dict":{},"slug":1})").error.message ==
        prefix + "$.slug: 1 is not valid under any of the given schemas");
  // Reported: the message carries the full repr, as jsonschema's does.
  CHECK(check(R"({"code":"x","globals_dict":)" + big + "}").error.message ==
        prefix + "$.globals_dict: " + big_repr + " is not of type 'object'");
  CHECK(check(R"({"code":"x","globals_dict":{},"slug":)" + big + "}").error.message ==
        prefix + "$.slug: " + big_repr + " is not valid under any of the given schemas");
}

TEST_CASE("check 5: valid payloads pass the schema", "[payload]") {
  for (const std::string json_text : {
           R"({"code":"it's","globals_dict":{},)"
           R"("slug":"it's \"q\" \u00e9\u0085\u2028\ud800\ud83d\ude00\t\u007f"})",
           R"({"globals_dict":{},"code":"x","extra":[1],"python_path":[],"slug":null,)"
           R"("limit_overrides_context":null,"unsafely":false})",
           R"({"code":5,"code":"x","globals_dict":{}})",
       }) {
    INFO(json_text);
    CHECK(check(json_text).payload);
  }
}

TEST_CASE("check 6: python_path entries other than python_lib.zip", "[payload]") {
  auto result = check(R"({"code": "", "globals_dict": {},)"
                      R"( "python_path": ["python_lib.zip", "foo", "bar", "foo"]})");
  REQUIRE_FALSE(result.payload);
  CHECK(result.error.http_status == 400);
  CHECK(result.error.message == "Only allowed entry in 'python_path' is 'python_lib.zip'");
  CHECK(result.error.telemetry_status == "invalid.python_path");
  CHECK(result.error.log_line == "Unexpected python_path entries in request: {'foo', 'bar'}");

  // Near misses are refused too, and checked before the files (check 7).
  result = check(R"({"code": "", "globals_dict": {}, "python_path": ["./python_lib.zip"]})",
                 {"other.zip"});
  REQUIRE_FALSE(result.payload);
  CHECK(result.error.telemetry_status == "invalid.python_path");
  CHECK(result.error.log_line == "Unexpected python_path entries in request: {'./python_lib.zip'}");
}

TEST_CASE("check 6: at most 1000 python_path entries", "[payload]") {
  auto payload_with = [](std::size_t entries, const std::string& last = "python_lib.zip") {
    std::string text = R"({"code":"","globals_dict":{},"python_path":[)";
    for (std::size_t i = 1; i < entries; ++i) text += R"("python_lib.zip",)";
    return text + '"' + last + "\"]}";
  };
  auto result = check(payload_with(1000), {"python_lib.zip"});
  REQUIRE(result.payload);
  CHECK(result.payload->python_path.size() == 1000);

  for (std::size_t entries : {1001u, 1000000u}) {
    result = check(payload_with(entries), {"python_lib.zip"});
    REQUIRE_FALSE(result.payload);
    CHECK(result.error.http_status == 400);
    CHECK(result.error.message == "At most 1000 entries are allowed in 'python_path'");
    CHECK(result.error.telemetry_status == "invalid.python_path");
  }
  // The count is checked before the entries themselves.
  result = check(payload_with(1001, "foo"));
  REQUIRE_FALSE(result.payload);
  CHECK(result.error.message == "At most 1000 entries are allowed in 'python_path'");
  result = check(payload_with(1000, "foo"));
  REQUIRE_FALSE(result.payload);
  CHECK(result.error.message == "Only allowed entry in 'python_path' is 'python_lib.zip'");
}

TEST_CASE("check 7: many distinct file names are deduplicated in linear time", "[payload]") {
  // Regression: deduplication used to scan the list of bad names for every
  // name, quadratic in the number of distinct names (1M python_path entries
  // in an 8 MiB payload ran for over ten minutes). python_path is bounded
  // now (check 6); the same deduplication serves the uploaded file names.
  constexpr int kNames = 100'000;
  std::vector<std::string> names;
  std::string expected_set = "{";
  for (int i = 0; i < kNames; ++i) {
    const std::string name = "p" + std::to_string(i);
    names.insert(names.end(), {name, "python_lib.zip", name});
    if (i > 0) expected_set += ", ";
    expected_set += "'" + name + "'";
  }
  names.push_back("p0");
  expected_set += "}";
  auto result = check(R"({"code":"","globals_dict":{}})", names);
  REQUIRE_FALSE(result.payload);
  CHECK(result.error.telemetry_status == "invalid.files");
  // The log line names them capped (common/log.h).
  CHECK(result.error.log_line ==
        "Unexpected filenames in request: " + cjs::log::request_text(expected_set));
}

TEST_CASE("check 7: uploaded files other than python_lib.zip", "[payload]") {
  auto result = check(R"({"code": "", "globals_dict": {}, "unsafely": true})",
                      {"python_lib.zip", "it's.zip", "x", "x"});
  REQUIRE_FALSE(result.payload);
  CHECK(result.error.http_status == 400);
  CHECK(result.error.message == "Only allowed name for uploaded file is 'python_lib.zip'");
  CHECK(result.error.telemetry_status == "invalid.files");
  CHECK(result.error.log_line == R"(Unexpected filenames in request: {"it's.zip", 'x'})");
}

TEST_CASE("check 8: unsafely=true is refused", "[payload]") {
  auto result = check(R"({"code": "", "globals_dict": {}, "unsafely": true})", {"python_lib.zip"});
  REQUIRE_FALSE(result.payload);
  CHECK(result.error.http_status == 400);
  CHECK(result.error.message == "Refusing codejail execution with unsafely=true");
  CHECK(result.error.telemetry_status == "invalid.unsafely");

  CHECK(check(R"({"code": "", "globals_dict": {}, "unsafely": false})").payload);
}

TEST_CASE("checks run in order: JSON, schema, python_path, files, unsafely", "[payload]") {
  const std::vector<std::string> bad_files = {"evil"};
  CHECK(check("{", bad_files).error.telemetry_status == "invalid.payload.bad_json");
  CHECK(
      check(R"({"code": 1, "globals_dict": {}, "python_path": ["x"], "unsafely": true})", bad_files)
          .error.telemetry_status == "invalid.payload.schema_mismatch");
  CHECK(check(R"({"code": "", "globals_dict": {}, "python_path": ["x"], "unsafely": true})",
              bad_files)
            .error.telemetry_status == "invalid.python_path");
  CHECK(check(R"({"code": "", "globals_dict": {}, "unsafely": true})", bad_files)
            .error.telemetry_status == "invalid.files");
}

TEST_CASE("a valid payload is returned ready to execute", "[payload]") {
  auto result = check(
      R"({"code": "x = x + 1", "globals_dict": {"x": 16, "f": 1.0, "big": 1180591620717411303424},)"
      R"( "python_path": ["python_lib.zip", "python_lib.zip"], "limit_overrides_context":)"
      R"( "course-v1:a+b+c", "slug": "problem-1", "unsafely": false, "extra": 1})",
      {"python_lib.zip"});
  REQUIRE(result.payload);
  const auto& payload = *result.payload;
  CHECK(payload.code == "x = x + 1");
  REQUIRE(payload.globals.is_object());
  CHECK(cjs::python_value_repr(payload.globals) ==
        "{'x': 16, 'f': 1.0, 'big': 1180591620717411303424}");
  CHECK(payload.python_path == std::vector<std::string>{"python_lib.zip", "python_lib.zip"});
  CHECK(payload.limit_overrides_context == "course-v1:a+b+c");
  CHECK(payload.slug == "problem-1");
}

TEST_CASE("null and absent optional keys mean nothing", "[payload]") {
  for (const std::string json_text :
       {R"({"code": "", "globals_dict": {}})",
        R"({"code": "", "globals_dict": {}, "python_path": null, "limit_overrides_context": null,)"
        R"( "slug": null})",
        R"({"code": "", "globals_dict": {}, "python_path": []})"}) {
    INFO(json_text);
    auto result = check(json_text);
    REQUIRE(result.payload);
    CHECK(result.payload->python_path.empty());
    CHECK_FALSE(result.payload->limit_overrides_context);
    CHECK_FALSE(result.payload->slug);
    CHECK(result.payload->globals == cjs::json::Value(cjs::json::Object{}));
  }
}

TEST_CASE("an uploaded zip without a python_path entry is accepted", "[payload]") {
  auto result = check(R"({"code": "", "globals_dict": {}})", {"python_lib.zip"});
  REQUIRE(result.payload);
  CHECK(result.payload->python_path.empty());
}
