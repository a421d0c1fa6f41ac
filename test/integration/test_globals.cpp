// api.md 3, 3.1 and 4 through real CPython: which globals come back, in
// which order and in which spelling.
#include <catch2/catch.hpp>

#include <string>

#include "executor_fixture.h"

using namespace cjs::itest;

namespace {

// The exact traceback prefix of an exception raised by exec() itself.
std::string exec_frame() {
  return R"(Traceback (most recent call last):\n  File "/tmp/codejail-XXXXXXXX/jailed_code", line 19, in <module>\n    exec(code, g_dict)\n)" +
         cjs::test::exec_call_carets();
}

}  // namespace

TEST_CASE("the issue's example: x = x + 1", "[integration][globals]") {
  auto exec = execute("x = x + 1", R"({"x": 16})");
  CHECK(exec.body() == R"({"globals_dict":{"x":17}})");
  CHECK(exec.report.success());
  CHECK(exec.report.telemetry_status == "executed.success");
  REQUIRE(exec.report.sandbox_status.has_value());
  CHECK(*exec.report.sandbox_status == 0);
}

TEST_CASE("input keys are echoed in input order, even when deleted or rebound",
          "[integration][globals]") {
  const std::string body =
      run("b = 10\n"
          "del a\n"
          "c = len\n"
          "zz = 5\n"
          "aa = 6\n"
          "mm = 7\n",
          R"({"b": 1, "a": 2, "c": 3, "d": 4})");
  // a deleted and c rebound to a builtin still echo their input values; new
  // keys follow in creation order (not sorted).
  CHECK(body == R"({"globals_dict":{"b":10,"a":2,"c":3,"d":4,"zz":5,"aa":6,"mm":7}})");
}

TEST_CASE("JSON-safe types are kept, tuples become lists, bytes become str",
          "[integration][globals]") {
  const std::string body =
      run("n = None\n"
          "t = True\n"
          "f = False\n"
          "i = -7\n"
          "fl = 2.5\n"
          "s = 'str'\n"
          "b = b'bytes'\n"
          "l = [1, 'a', None, b'x']\n"
          "tu = (1, (2, 3))\n"
          "d = {'k': [1, 2], 'n': {'b': b'x'}, b'bk': (4,)}\n"
          "e = []\n");
  CHECK(body ==
        R"({"globals_dict":{"n":null,"t":true,"f":false,"i":-7,"fl":2.5,"s":"str","b":"bytes",)"
        R"("l":[1,"a",null,"x"],"tu":[1,[2,3]],"d":{"k":[1,2],"n":{"b":"x"},"bk":[4]},"e":[]}})");
}

TEST_CASE("subclasses of kept types are kept: numpy.float64 yes, numpy.int64 no",
          "[integration][globals]") {
  const std::string body =
      run("import numpy\n"
          "f64 = numpy.float64(1.5)\n"
          "i64 = numpy.int64(3)\n"
          "arr = numpy.array([1, 2])\n"
          "class MyInt(int):\n"
          "    pass\n"
          "class MyStr(str):\n"
          "    pass\n"
          "mi = MyInt(5)\n"
          "ms = MyStr('sub')\n"
          "ok = 1\n");
  CHECK(body == R"({"globals_dict":{"f64":1.5,"mi":5,"ms":"sub","ok":1}})");
}

TEST_CASE("__builtins__ is never sent back", "[integration][globals]") {
  CHECK(run("x = 1") == R"({"globals_dict":{"x":1}})");
  CHECK(run("x = 1\n__builtins__ = 5\n") == R"({"globals_dict":{"x":1}})");
}

TEST_CASE("non-string dict keys get their JSON spelling", "[integration][globals]") {
  const std::string body = run("d = {4: 'a', True: 'b', None: 'c', 1.5: 'd', 'k': 'e'}\n");
  CHECK(body == R"({"globals_dict":{"d":{"4":"a","true":"b","null":"c","1.5":"d","k":"e"}}})");
}

TEST_CASE("values that are not JSON-safe drop their whole key silently", "[integration][globals]") {
  const std::string body =
      run("first = 1\n"
          "bad_utf8 = b'\\xff'\n"
          "bad_utf8_key = {b'\\xff': 1}\n"
          "bad_utf8_nested = [b'ok', b'\\xfe']\n"
          "obj_in_list = [1, object()]\n"
          "obj_in_dict = {'a': object()}\n"
          "a_set = {1, 2}\n"
          "set_in_list = [{1}]\n"
          "a_frozenset = frozenset()\n"
          "selfref = []\n"
          "selfref.append(selfref)\n"
          "def fn():\n"
          "    pass\n"
          "lam = lambda: 1\n"
          "import os\n"
          "class K:\n"
          "    pass\n"
          "inst = K()\n"
          "cplx = 1j\n"
          "last = 2\n");
  CHECK(body == R"({"globals_dict":{"first":1,"last":2}})");
  CHECK_FALSE(emsg_of(body).has_value());
}

TEST_CASE("on error the input globals come back unchanged", "[integration][globals]") {
  const std::string input =
      R"({"a": [1, 2], "d": {"k": "v"}, "n": 1, "f": 1.0, "big": 1180591620717411303424})";
  const std::string body =
      run("a.append(3)\n"
          "d['k2'] = 1\n"
          "n = 2\n"
          "new = 1\n"
          "1/0\n",
          input);
  const std::string expected_prefix =
      R"({"globals_dict":{"a":[1,2],"d":{"k":"v"},"n":1,"f":1.0,"big":1180591620717411303424},"emsg":")";
  CHECK(body.substr(0, expected_prefix.size()) == expected_prefix);
  REQUIRE(emsg_of(body).has_value());
  CHECK_THAT(*emsg_of(body), Catch::Contains("ZeroDivisionError: division by zero"));
}

TEST_CASE("numbers are lossless both ways", "[integration][globals]") {
  SECTION("big integers, exact floats") {
    const std::string body =
        run("big2 = big * 2\n"
            "c = 2**70\n"
            "f2 = f\n"
            "ten16 = 1e16\n"
            "third = 1/3\n"
            "neg0 = -0.0\n"
            "tiny = 1e-05\n"
            "whole = 3.0 * 2\n",
            R"({"big": 1180591620717411303424, "f": 1.0, "e": 1e16, "g": 1.5E-7})");
    CHECK(body ==
          R"({"globals_dict":{"big":1180591620717411303424,"f":1.0,"e":1e+16,"g":1.5e-07,)"
          R"("big2":2361183241434822606848,"c":1180591620717411303424,"f2":1.0,"ten16":1e+16,)"
          R"("third":0.3333333333333333,"neg0":-0.0,"tiny":1e-05,"whole":6.0}})");
  }
  SECTION("NaN and infinities travel as bare tokens") {
    const std::string body =
        run("n2 = n\n"
            "i2 = i * 2\n"
            "m2 = float('-inf')\n"
            "isnan = n != n\n"
            "l = [float('nan'), float('inf')]\n",
            R"({"n": NaN, "i": Infinity, "m": -Infinity})");
    CHECK(body == R"({"globals_dict":{"n":NaN,"i":Infinity,"m":-Infinity,"n2":NaN,"i2":Infinity,)"
                  R"("m2":-Infinity,"isnan":true,"l":[NaN,Infinity]}})");
  }
}

TEST_CASE("unicode: raw UTF-8 out, U+2028/U+2029 escaped, lone surrogates survive",
          "[integration][globals]") {
  SECTION("non-ASCII is raw UTF-8 in the body") {
    const std::string body =
        run("t = s + '\\u00fc\\u4e2d\\U0001F600'\nraw = '\xc3\xa9'\n", R"({"s": "\u00e9"})");
    CHECK(body ==
          "{\"globals_dict\":{\"s\":\"\xc3\xa9\",\"t\":\"\xc3\xa9\xc3\xbc\xe4\xb8\xad"
          "\xf0\x9f\x98\x80\",\"raw\":\"\xc3\xa9\"}}");
  }
  SECTION("line and paragraph separators are escaped") {
    const std::string body = run("ls = 'a\\u2028b\\u2029c'\n");
    CHECK(body == R"({"globals_dict":{"ls":"a\u2028b\u2029c"}})");
  }
  SECTION("a lone surrogate goes in and comes out as an escape") {
    const std::string body =
        run("sur2 = sur + 'x'\n"
            "l = len(sur)\n"
            "cp = ord(sur)\n"
            "sur3 = '\\udfff'\n",
            R"({"sur": "\ud800"})");
    CHECK(body ==
          R"({"globals_dict":{"sur":"\ud800","sur2":"\ud800x","l":1,"cp":55296,"sur3":"\udfff"}})");
  }
}

TEST_CASE("__name__ is not __main__ inside the code", "[integration][globals]") {
  // exec() with a globals dict lacking __name__ finds the builtins module's
  // name, exactly as under the reference wrapper.
  const std::string body = run("n = __name__\nis_main = __name__ == '__main__'\n");
  CHECK(body == R"({"globals_dict":{"n":"builtins","is_main":false}})");
}

TEST_CASE("import random works", "[integration][globals]") {
  const std::string body =
      run("import random\n"
          "random.seed(1)\n"
          "r = random.randint(1, 100)\n"
          "ok = isinstance(random.random(), float)\n");
  CHECK(body == R"({"globals_dict":{"r":18,"ok":true}})");
}

TEST_CASE("a 2 MiB string global round-trips", "[integration][globals]") {
  std::string lower, upper;
  lower.reserve(2u << 20);
  upper.reserve(2u << 20);
  for (std::size_t i = 0; i < (1u << 20); ++i) {
    lower += "ab";
    upper += "AB";
  }
  const std::string body = run("s = s.upper()\nn = len(s)\n", R"({"s": ")" + lower + R"("})");
  CHECK(body == R"({"globals_dict":{"s":")" + upper + R"(","n":2097152}})");
}

TEST_CASE("a NUL character in the code is reported as CPython reports it",
          "[integration][globals]") {
  const std::string code("x = 1\0\n", 7);
  const std::string body = run(code, R"({"x": 0})");
  REQUIRE(emsg_of(body).has_value());
  CHECK(normalize_sandbox_dir(*emsg_of(body)) ==
        "Couldn't execute jailed code: stdout: b'', stderr: b'" + exec_frame() +
            cjs::test::null_bytes_exception() +
            R"(: source code string cannot contain null bytes\n' with status code: 1)");
  CHECK(global_keys(body) == std::vector<std::string>{"x"});
  CHECK(global_json(body, "x") == "0");
}
