// The 200 body: emsg spelling and the globals merge (api.md 3, 3.1, 3.2).
#include <catch2/catch.hpp>

#include "common/json_parse.h"
#include "jail/response.h"

namespace {

cjs::json::Value parse(std::string_view text) {
  auto result = cjs::json::parse(text);
  REQUIRE(result);
  return *result.value;
}

}  // namespace

TEST_CASE("jailed code emsg uses CPython's bytes repr and the status", "[response]") {
  CHECK(cjs::jail::jailed_code_emsg("", "", -9) ==
        "Couldn't execute jailed code: stdout: b'', stderr: b'' with status code: -9");
  CHECK(cjs::jail::jailed_code_emsg("x", "a\nb\xc3\xa9'", 1) ==
        "Couldn't execute jailed code: stdout: b'x', stderr: b\"a\\nb\\xc3\\xa9'\" with status "
        "code: 1");
}

TEST_CASE("error response echoes the input globals unchanged", "[response]") {
  auto input = parse(R"({"b":1.0,"a":[1,2],"n":NaN})");
  CHECK(cjs::jail::error_response(input, "boom") ==
        R"({"globals_dict":{"b":1.0,"a":[1,2],"n":NaN},"emsg":"boom"})");
}

TEST_CASE("success merges like dict.update", "[response]") {
  auto input = parse(R"({"x":16,"keep":"me","y":[1]})");
  auto sandbox = parse(R"({"new1":1,"x":17,"y":null,"new2":2})");
  CHECK(cjs::jail::success_response(input, sandbox.as_object()) ==
        R"({"globals_dict":{"x":17,"keep":"me","y":null,"new1":1,"new2":2}})");
}

TEST_CASE("success with an empty input or empty sandbox globals", "[response]") {
  CHECK(cjs::jail::success_response(parse("{}"), parse(R"({"a":1})").as_object()) ==
        R"({"globals_dict":{"a":1}})");
  CHECK(cjs::jail::success_response(parse(R"({"a":1})"), {}) == R"({"globals_dict":{"a":1}})");
}

TEST_CASE("sandbox stdout must be a JSON object", "[response]") {
  CHECK(cjs::jail::parse_sandbox_globals(R"({"a": 1})", 100));
  CHECK_FALSE(cjs::jail::parse_sandbox_globals("", 100));
  CHECK_FALSE(cjs::jail::parse_sandbox_globals("[1]", 100));
  CHECK_FALSE(cjs::jail::parse_sandbox_globals("{\"a\": 1}garbage", 100));
  CHECK_FALSE(cjs::jail::parse_sandbox_globals("{\"a\": 1", 100));
}

TEST_CASE("sandbox stdout is parsed within a budget of values and keys", "[response]") {
  // The object, its key, the array and its two numbers: five.
  const std::string_view text = R"({"a": [1, 2]})";
  CHECK(cjs::json::count_values(parse(text)) == 5);
  CHECK(cjs::jail::parse_sandbox_globals(text, 5));
  CHECK_FALSE(cjs::jail::parse_sandbox_globals(text, 4));
  const auto refused = cjs::json::parse(text, cjs::json::ParseBudget{4});
  REQUIRE_FALSE(refused);
  CHECK(refused.error.message == cjs::json::kTooManyValues);
}
