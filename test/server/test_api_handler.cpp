// The API handler in front of the real pool and real workers: both request
// encodings edxapp sends give the body the API suite expects, and bad input
// gets the documented error bodies (docs/api.md 2, 3 and 9).
#include <catch2/catch.hpp>

#include <cctype>
#include <optional>
#include <utility>

#include "server/api_handler.h"
#include "test/support/test_support.h"
#include "worker_fixture.h"

namespace cjs::stest {
namespace {

using server::ApiRequest;
using server::ApiResponse;

constexpr const char* kCodeExec = "/api/v0/code-exec";
constexpr const char* kBoundary = "cjsBoundary7MA4YWxk";

// application/x-www-form-urlencoded, as Python's urlencode writes it.
std::string form_urlencode(std::string_view text) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else if (c == ' ') {
      out += '+';
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

// A multipart body as requests writes it: the payload field, then a file.
std::string multipart_body(const std::string& payload,
                           const std::optional<std::string>& python_lib_zip) {
  std::string body = std::string("--") + kBoundary +
                     "\r\nContent-Disposition: form-data; name=\"payload\"\r\n\r\n" + payload +
                     "\r\n";
  if (python_lib_zip) {
    body += std::string("--") + kBoundary +
            "\r\nContent-Disposition: form-data; name=\"python_lib.zip\"; "
            "filename=\"python_lib.zip\"\r\n\r\n" +
            *python_lib_zip + "\r\n";
  }
  return body + "--" + kBoundary + "--\r\n";
}

// The handler with its pool, its configuration and passed probes.
struct Api {
  WorkerFixture fixture;
  server::ServiceState state{true, false};
  server::ApiHandler handler{fixture.settings(), state, fixture.pool(), fixture.metrics()};

  explicit Api(FixtureOptions options = {}) : fixture(options) { fixture.start_workers(); }

  ApiResponse post(std::string content_type, std::string body) {
    std::optional<ApiResponse> response;
    handler.handle(ApiRequest{"POST", kCodeExec, std::move(content_type), std::move(body), "t"},
                   [&](ApiResponse r) { response = std::move(r); });
    REQUIRE(fixture.run_until([&] { return response.has_value(); }));
    return std::move(*response);
  }
};

TEST_CASE("api handler: a urlencoded code-exec runs and answers the execution body", "[api]") {
  Api api;
  const std::string payload = test::payload_json("x = x + 1", R"({"x": 16})");
  ApiResponse r =
      api.post("application/x-www-form-urlencoded", "payload=" + form_urlencode(payload));
  CHECK(r.status == 200);
  CHECK(r.content_type == "application/json");
  CHECK(r.body == R"({"globals_dict":{"x":17}})");
}

TEST_CASE("api handler: a multipart code-exec gives the same body as the urlencoded one", "[api]") {
  Api api;
  const std::string payload = test::payload_json("x = x + 1", R"({"x": 16})");
  ApiResponse r = api.post(std::string("multipart/form-data; boundary=") + kBoundary,
                           multipart_body(payload, std::nullopt));
  CHECK(r.status == 200);
  CHECK(r.body == R"({"globals_dict":{"x":17}})");

  // With the course library the file part carries: its module imports.
  const std::string library = test::make_stored_zip({{"course_lib.py", "VALUE = 17\n"}});
  const std::string with_zip =
      test::payload_json("import course_lib\nx = course_lib.VALUE", "{}", {"python_lib.zip"});
  ApiResponse z = api.post(std::string("multipart/form-data; boundary=") + kBoundary,
                           multipart_body(with_zip, library));
  CHECK(z.status == 200);
  CHECK(z.body == R"({"globals_dict":{"x":17}})");
}

TEST_CASE("api handler: a malformed multipart body is 400 with Django's detail", "[api]") {
  Api api;
  const std::string payload = test::payload_json("x = 1", "{}");
  ApiResponse r = api.post("multipart/form-data", multipart_body(payload, std::nullopt));
  CHECK(r.status == 400);
  CHECK(r.body ==
        R"({"detail":"Multipart form parse error - Invalid boundary in multipart: None"})");
}

TEST_CASE("api handler: a request beyond the full queue is 503 overloaded with Retry-After",
          "[api]") {
  FixtureOptions options;
  options.pool.queue_limit = 0;
  Api api(options);
  const std::string form = "payload=" + form_urlencode(test::payload_json("a = 1", "{}"));
  std::optional<ApiResponse> first, second;
  api.handler.handle(ApiRequest{"POST", kCodeExec, "application/x-www-form-urlencoded", form, "1"},
                     [&](ApiResponse r) { first = std::move(r); });
  api.handler.handle(ApiRequest{"POST", kCodeExec, "application/x-www-form-urlencoded", form, "2"},
                     [&](ApiResponse r) { second = std::move(r); });
  REQUIRE(api.fixture.run_until([&] { return first && second; }));
  CHECK(first->status == 200);
  CHECK(first->body == R"({"globals_dict":{"a":1}})");
  CHECK(second->status == 503);
  CHECK(second->body == R"({"error":"Codejail service is overloaded; retry later"})");
  CHECK(second->headers == std::vector<std::pair<std::string, std::string>>{{"Retry-After", "1"}});
}

}  // namespace
}  // namespace cjs::stest
