// Expected strings were produced with CPython 3.11: repr(bytes) and
// json.dumps(float) (which is float.__repr__ plus NaN/Infinity spellings).
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <string>

#include "common/python_repr.h"

using cjs::python_bytes_repr;
using cjs::python_float_repr;

TEST_CASE("python_bytes_repr quoting", "[python_repr]") {
  CHECK(python_bytes_repr("") == "b''");
  CHECK(python_bytes_repr("hello") == "b'hello'");
  // Single quotes inside switch to double quotes unless both kinds appear.
  CHECK(python_bytes_repr("it's") == R"(b"it's")");
  CHECK(python_bytes_repr("say \"hi\"") == R"(b'say "hi"')");
  CHECK(python_bytes_repr("'\"'") == R"(b'\'"\'')");
  CHECK(python_bytes_repr("'") == R"(b"'")");
  CHECK(python_bytes_repr("\\") == R"(b'\\')");
}

TEST_CASE("python_bytes_repr escapes", "[python_repr]") {
  CHECK(python_bytes_repr(std::string("\t\n\r\x00\x7f\x80\xff", 7)) ==
        R"(b'\t\n\r\x00\x7f\x80\xff')");
  CHECK(python_bytes_repr("\x1b[0m\x0b\x0c") == R"(b'\x1b[0m\x0b\x0c')");
  CHECK(python_bytes_repr("\xc3\xa9") == R"(b'\xc3\xa9')");
  CHECK(python_bytes_repr(" ~") == "b' ~'");
  CHECK(python_bytes_repr("Traceback:\n  File \"<string>\", line 3\n") ==
        R"(b'Traceback:\n  File "<string>", line 3\n')");
}

TEST_CASE("python_float_repr matches repr(float)", "[python_repr]") {
  struct FloatCase {
    double value;
    const char* repr;
  };
  const FloatCase cases[] = {
      {0.1, "0.1"},
      {1.0, "1.0"},
      {0.0, "0.0"},
      {-0.0, "-0.0"},
      {1e16, "1e+16"},
      {1e15, "1000000000000000.0"},
      {9999999999999998.0, "9999999999999998.0"},
      {1e-5, "1e-05"},
      {1e-4, "0.0001"},
      {0.00012345, "0.00012345"},
      {1.2345e-5, "1.2345e-05"},
      {5e-324, "5e-324"},
      {2.2250738585072014e-308, "2.2250738585072014e-308"},
      {1.7976931348623157e308, "1.7976931348623157e+308"},
      {123456789012345678.0, "1.2345678901234568e+17"},
      {1.5e300, "1.5e+300"},
      {1e100, "1e+100"},
      {-2.5e-7, "-2.5e-07"},
      {0.30000000000000004, "0.30000000000000004"},
      {1.0 / 3.0, "0.3333333333333333"},
      {123.456, "123.456"},
      {-1234.5, "-1234.5"},
      {100000.0, "100000.0"},
      {1e22, "1e+22"},
  };
  for (const auto& float_case : cases) {
    INFO("expected: " << float_case.repr);
    CHECK(python_float_repr(float_case.value) == float_case.repr);
  }
}

TEST_CASE("python_float_repr non-finite values use JSON spellings", "[python_repr]") {
  constexpr double kInf = std::numeric_limits<double>::infinity();
  CHECK(python_float_repr(std::numeric_limits<double>::quiet_NaN()) == "NaN");
  CHECK(python_float_repr(-std::numeric_limits<double>::quiet_NaN()) == "NaN");
  CHECK(python_float_repr(kInf) == "Infinity");
  CHECK(python_float_repr(-kInf) == "-Infinity");
}
