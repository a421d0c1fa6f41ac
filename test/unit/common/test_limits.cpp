// Per-context limit resolution: defaults overlaid by the context's override.
#include <catch2/catch.hpp>
#include <optional>
#include <string>

#include "common/limits.h"

namespace {

cjs::Limits Defaults() {
  cjs::Limits limits;
  limits.cpu_seconds = 1;
  limits.realtime_seconds = 3.0;
  limits.vmem_bytes = 536870912;
  limits.fsize_bytes = 1048576;
  limits.nproc = 15;
  limits.proxy = 1;
  return limits;
}

cjs::LimitOverrides Overrides() {
  cjs::LimitOverrides overrides;
  overrides["course-v1:edX+Demo+T1"].cpu_seconds = 3;
  overrides["course-v1:edX+Demo+T1"].realtime_seconds = 4.5;
  cjs::LimitOverride& all = overrides["everything"];
  all.cpu_seconds = 10;
  all.realtime_seconds = 0.25;
  all.vmem_bytes = 0;
  all.fsize_bytes = 0;
  all.nproc = 50;
  overrides["empty"];
  return overrides;
}

}  // namespace

TEST_CASE("no context gives the defaults", "[limits]") {
  CHECK(cjs::resolve_limits(Defaults(), Overrides(), std::nullopt) == Defaults());
}

TEST_CASE("an unknown context gives the defaults", "[limits]") {
  CHECK(cjs::resolve_limits(Defaults(), Overrides(), std::string("course-v1:other+X+Y")) ==
        Defaults());
  CHECK(cjs::resolve_limits(Defaults(), Overrides(), std::string("")) == Defaults());
  CHECK(cjs::resolve_limits(Defaults(), {}, std::string("course-v1:edX+Demo+T1")) == Defaults());
}

TEST_CASE("a context with no overrides gives the defaults", "[limits]") {
  CHECK(cjs::resolve_limits(Defaults(), Overrides(), std::string("empty")) == Defaults());
}

TEST_CASE("only the overridden limits change", "[limits]") {
  cjs::Limits expected = Defaults();
  expected.cpu_seconds = 3;
  expected.realtime_seconds = 4.5;
  CHECK(cjs::resolve_limits(Defaults(), Overrides(), std::string("course-v1:edX+Demo+T1")) ==
        expected);
}

TEST_CASE("every overridable limit can be overridden, including to 0", "[limits]") {
  const cjs::Limits resolved =
      cjs::resolve_limits(Defaults(), Overrides(), std::string("everything"));
  CHECK(resolved.cpu_seconds == 10);
  CHECK(resolved.realtime_seconds == 0.25);
  CHECK(resolved.vmem_bytes == 0);
  CHECK(resolved.fsize_bytes == 0);
  CHECK(resolved.nproc == 50);
  CHECK(resolved.proxy == 1);  // PROXY is never overridden per context
}

TEST_CASE("context names match exactly", "[limits]") {
  CHECK(cjs::resolve_limits(Defaults(), Overrides(), std::string("course-v1:edx+demo+t1")) ==
        Defaults());
  CHECK(cjs::resolve_limits(Defaults(), Overrides(), std::string("course-v1:edX+Demo+T1 ")) ==
        Defaults());
}

TEST_CASE("the longest REALTIME covers every context, 0 meaning the ceiling", "[limits]") {
  CHECK(cjs::longest_realtime_seconds(Defaults(), {}) == 3.0);
  CHECK(cjs::longest_realtime_seconds(Defaults(), Overrides()) == 4.5);
  cjs::LimitOverrides unlimited = Overrides();
  unlimited["exam"].realtime_seconds = 0;
  CHECK(cjs::longest_realtime_seconds(Defaults(), unlimited) == cjs::kRealtimeCeilingSeconds);
  cjs::Limits no_default = Defaults();
  no_default.realtime_seconds = 0;
  CHECK(cjs::longest_realtime_seconds(no_default, {}) == cjs::kRealtimeCeilingSeconds);
  cjs::LimitOverrides longer;
  longer["long"].realtime_seconds = 900;
  CHECK(cjs::longest_realtime_seconds(no_default, longer) == 900);
}
