// common/log.h: request-controlled text is capped before it reaches a log line.
#include <catch2/catch.hpp>

#include <string>

#include "common/log.h"
#include "common/payload.h"

using cjs::log::kMaxRequestTextBytes;
using cjs::log::request_text;

TEST_CASE("request text up to the cap is logged as is", "[log]") {
  CHECK(request_text("") == "");
  CHECK(request_text("course-v1:edX+DemoX+Demo_Course") == "course-v1:edX+DemoX+Demo_Course");
  const std::string at_cap(kMaxRequestTextBytes, 's');
  CHECK(request_text(at_cap) == at_cap);
}

TEST_CASE("longer request text is cut with a marker of what was left out", "[log]") {
  const std::string slug(10u << 20, 's');  // a 10 MiB slug
  const std::string logged = request_text(slug);
  CHECK(logged == std::string(kMaxRequestTextBytes, 's') + "...(+" +
                      std::to_string(slug.size() - kMaxRequestTextBytes) + " bytes)");
  CHECK(request_text(std::string(kMaxRequestTextBytes + 1, 'x')) ==
        std::string(kMaxRequestTextBytes, 'x') + "...(+1 bytes)");
}

TEST_CASE("request text is cut at a UTF-8 boundary", "[log]") {
  // "é" is 2 bytes: with one ASCII byte first, the cap falls inside one.
  std::string text = "a";
  while (text.size() < kMaxRequestTextBytes + 10) text += "\xC3\xA9";
  const std::string logged = request_text(text);
  const std::string kept = logged.substr(0, logged.find("..."));
  CHECK(kept.size() == kMaxRequestTextBytes - 1);
  CHECK(kept == text.substr(0, kMaxRequestTextBytes - 1));
  CHECK(logged.substr(kept.size()) ==
        "...(+" + std::to_string(text.size() - kept.size()) + " bytes)");
}

TEST_CASE("a payload's refused names reach its log line capped", "[log][payload]") {
  const std::string entry(1u << 20, 'p');
  auto check = cjs::check_payload(
      R"({"code":"x","globals_dict":{},"python_path":[")" + entry + R"("]})", {});
  REQUIRE_FALSE(check.payload);
  const std::string prefix = "Unexpected python_path entries in request: ";
  REQUIRE(check.error.log_line.rfind(prefix, 0) == 0);
  CHECK(check.error.log_line == prefix + request_text("{'" + entry + "'}"));
  CHECK(check.error.log_line.size() < prefix.size() + kMaxRequestTextBytes + 32);

  check = cjs::check_payload(R"({"code":"x","globals_dict":{}})", {entry});
  REQUIRE_FALSE(check.payload);
  CHECK(check.error.log_line.size() < 400);
}
