// api.md 3.2: emsg for failures inside the sandbox, tracebacks, status codes
// and the bytes-literal spelling of the captured output.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "executor_fixture.h"

using namespace cjs::itest;
using cjs::UploadedFile;

namespace {

std::string normalized_emsg(const std::string& body) {
  auto emsg = emsg_of(body);
  INFO("body: " << body);
  REQUIRE(emsg.has_value());
  return normalize_sandbox_dir(*emsg);
}

UploadedFile python_lib_zip() {
  return UploadedFile{"python_lib.zip", make_stored_zip({{"mymod.py",
                                                          "VALUE = 42\n"
                                                          "def boom():\n"
                                                          "    return 1/0\n"}})};
}

}  // namespace

TEST_CASE("the api.md 3.2 traceback example, byte for byte", "[integration][errors]") {
  auto exec = execute(
      "import sys\n"
      "print(\"hi\", file=sys.stderr)\n"
      "1/0",
      R"({"x": 16})");
  // (CPython 3.13 adds carets under the exec line: cjs::test::exec_call_carets().)
  CHECK(
      normalized_emsg(exec.body()) ==
      R"(Couldn't execute jailed code: stdout: b'', stderr: b'hi\nTraceback (most recent call last):\n  File "/tmp/codejail-XXXXXXXX/jailed_code", line 19, in <module>\n    exec(code, g_dict)\n)" +
          cjs::test::exec_call_carets() +
          R"(  File "<string>", line 3, in <module>\nZeroDivisionError: division by zero\n' with status code: 1)");
  // The whole body: input globals, then the emsg (JSON-escaped).
  std::string carets_in_json = cjs::test::exec_call_carets();  // its "\n" escaped once more
  if (!carets_in_json.empty()) carets_in_json.insert(carets_in_json.size() - 2, "\\");
  CHECK(
      normalize_sandbox_dir(exec.body()) ==
      R"({"globals_dict":{"x":16},"emsg":"Couldn't execute jailed code: stdout: b'', stderr: b'hi\\nTraceback (most recent call last):\\n  File \"/tmp/codejail-XXXXXXXX/jailed_code\", line 19, in <module>\\n    exec(code, g_dict)\\n)" +
          carets_in_json +
          R"(  File \"<string>\", line 3, in <module>\\nZeroDivisionError: division by zero\\n' with status code: 1"})");
  CHECK_FALSE(exec.report.success());
  CHECK(exec.report.telemetry_status == "executed.error");
  REQUIRE(exec.report.sandbox_status.has_value());
  CHECK(*exec.report.sandbox_status == 1);
}

TEST_CASE("the exec line is 19, plus one per python_path entry", "[integration][errors]") {
  const std::string tail =
      R"(, in <module>\n    exec(code, g_dict)\n)" + cjs::test::exec_call_carets() +
      R"(  File "<string>", line 1, in <module>\nZeroDivisionError: division by zero\n' with status code: 1)";
  const std::string head =
      R"(Couldn't execute jailed code: stdout: b'', stderr: b'Traceback (most recent call last):\n  File "/tmp/codejail-XXXXXXXX/jailed_code", line )";
  SECTION("no python_path") { CHECK(normalized_emsg(run("1/0")) == head + "19" + tail); }
  SECTION("one python_path entry") {
    RunArgs args;
    args.python_path = {"python_lib.zip"};
    args.files = {python_lib_zip()};
    CHECK(normalized_emsg(run("1/0", "{}", args)) == head + "20" + tail);
  }
  SECTION("a duplicated python_path entry counts twice") {
    RunArgs args;
    args.python_path = {"python_lib.zip", "python_lib.zip"};
    args.files = {python_lib_zip()};
    CHECK(normalized_emsg(run("1/0", "{}", args)) == head + "21" + tail);
  }
}

TEST_CASE("a module in the uploaded python_lib.zip is importable", "[integration][errors]") {
  RunArgs args;
  args.python_path = {"python_lib.zip"};
  args.files = {python_lib_zip()};
  SECTION("import and use it") {
    CHECK(run("import mymod\nv = mymod.VALUE + 1\n", "{}", args) == R"({"globals_dict":{"v":43}})");
  }
  SECTION("sys.path gets the zip in the sandbox dir") {
    const std::string body =
        run("import sys, os\n"
            "last = sys.path[-1]\n"
            "expected = os.path.join(os.getcwd(), 'python_lib.zip')\n"
            "absolute = os.path.abspath(last) == expected\n"
            "listing = sorted(os.listdir('.'))\n",
            "{}", args);
    CHECK(global_json(body, "last") == R"("python_lib.zip")");
    CHECK(global_json(body, "absolute") == "true");
    CHECK(global_json(body, "listing") == R"(["jailed_code","python_lib.zip","tmp"])");
  }
  SECTION("a traceback through the zip's code") {
    const std::string emsg = normalized_emsg(run("import mymod\nmymod.boom()\n", "{}", args));
    CHECK_THAT(emsg, Catch::Contains(R"(File "<string>", line 2, in <module>\n)"));
    CHECK_THAT(emsg, Catch::Contains(R"(python_lib.zip/mymod.py", line 3, in boom\n)"));
    CHECK_THAT(emsg,
               Catch::EndsWith(R"(ZeroDivisionError: division by zero\n' with status code: 1)"));
  }
}

TEST_CASE("an uploaded zip without a python_path entry is present but not on sys.path",
          "[integration][errors]") {
  RunArgs args;
  args.files = {python_lib_zip()};
  const std::string body =
      run("import os, sys\n"
          "listing = sorted(os.listdir('.'))\n"
          "on_path = [p for p in sys.path if 'python_lib.zip' in p]\n"
          "try:\n"
          "    import mymod\n"
          "    found = True\n"
          "except ImportError:\n"
          "    found = False\n",
          "{}", args);
  CHECK(
      body ==
      R"({"globals_dict":{"listing":["jailed_code","python_lib.zip","tmp"],"on_path":[],"found":false}})");
}

TEST_CASE("a python_path entry without an uploaded file is a machinery failure",
          "[integration][errors]") {
  RunArgs args;
  args.python_path = {"python_lib.zip"};
  auto exec = execute("x = x + 1", R"({"x": 16})", args);
  CHECK(exec.body() ==
        R"({"globals_dict":{"x":16},"emsg":"Couldn't execute sandboxed code: See logs."})");
  CHECK_FALSE(exec.report.success());
  CHECK(exec.report.telemetry_status == "executed.error");
  CHECK_FALSE(exec.report.sandbox_status.has_value());
  CHECK_FALSE(exec.report.failure.empty());
}

TEST_CASE("exit 0 without globals on stdout is corrupted stdout", "[integration][errors]") {
  const std::string corrupted =
      R"({"globals_dict":{"x":1},"emsg":"Sandboxed code produced corrupted stdout."})";
  SECTION("sys.exit(0)") { CHECK(run("import sys\nsys.exit(0)\n", R"({"x": 1})") == corrupted); }
  SECTION("raise SystemExit") {
    CHECK(run("x = 5\nraise SystemExit\n", R"({"x": 1})") == corrupted);
  }
  SECTION("os._exit(0)") {
    CHECK(run("import os\nx = 2\nos._exit(0)\n", R"({"x": 1})") == corrupted);
  }
  SECTION("writing to sys.__stdout__") {
    CHECK(run("import sys\nsys.__stdout__.write('hello')\nx = 3\n", R"({"x": 1})") == corrupted);
  }
  SECTION("writing to fd 1") {
    CHECK(run("import os\nos.write(1, b'junk')\nx = 3\n", R"({"x": 1})") == corrupted);
  }
}

TEST_CASE("print() output is swallowed", "[integration][errors]") {
  CHECK(run("print('hello')\nprint('more', flush=True)\nimport sys\nsys.stdout.write('w')\n"
            "sys.stdout.flush()\nx = 1\n") == R"({"globals_dict":{"x":1}})");
}

TEST_CASE("stderr output and exit codes", "[integration][errors]") {
  SECTION("os.write(2) then sys.exit(3)") {
    CHECK(
        normalized_emsg(run("import os, sys\nos.write(2, b'to stderr\\n')\nsys.exit(3)\n")) ==
        R"(Couldn't execute jailed code: stdout: b'', stderr: b'to stderr\n' with status code: 3)");
  }
  SECTION("sys.exit with a message") {
    CHECK(normalized_emsg(run("import sys\nsys.exit('bye')\n")) ==
          R"(Couldn't execute jailed code: stdout: b'', stderr: b'bye\n' with status code: 1)");
  }
  SECTION("stderr output of a successful run is not reported") {
    CHECK(run("import os\nos.write(2, b'noise')\nx = 1\n") == R"({"globals_dict":{"x":1}})");
  }
  SECTION("stdout bytes are reported too when the run fails") {
    CHECK(normalized_emsg(run("import os\nos.write(1, b'out')\nos._exit(4)\n")) ==
          R"(Couldn't execute jailed code: stdout: b'out', stderr: b'' with status code: 4)");
  }
}

TEST_CASE("killed by a signal: minus the signal number", "[integration][errors]") {
  SECTION("SIGKILL") {
    auto exec = execute("import os\nos.kill(os.getpid(), 9)\n", R"({"a": 1})");
    CHECK(
        exec.body() ==
        R"({"globals_dict":{"a":1},"emsg":"Couldn't execute jailed code: stdout: b'', stderr: b'' with status code: -9"})");
    REQUIRE(exec.report.sandbox_status.has_value());
    CHECK(*exec.report.sandbox_status == -9);
  }
  SECTION("segfault through ctypes") {
    auto exec = execute("import ctypes\nctypes.string_at(0)\n");
    CHECK(normalized_emsg(exec.body()) ==
          R"(Couldn't execute jailed code: stdout: b'', stderr: b'' with status code: -11)");
    REQUIRE(exec.report.sandbox_status.has_value());
    CHECK(*exec.report.sandbox_status == -11);
  }
  SECTION("the next run after a crash is fine") {
    (void)run("import ctypes\nctypes.string_at(0)\n");
    CHECK(run("x = x + 1", R"({"x": 16})") == R"({"globals_dict":{"x":17}})");
  }
}

TEST_CASE("captured output is spelled as CPython's repr(bytes)", "[integration][errors]") {
  SECTION("UTF-8, tab, both quotes, backslash, CR, NUL, DEL") {
    CHECK(
        normalized_emsg(
            run("import os\nos.write(2, b'\\xc3\\xa9\\t\\'\"\\\\\\r\\x00\\x7f')\nos._exit(1)\n")) ==
        R"(Couldn't execute jailed code: stdout: b'', stderr: b'\xc3\xa9\t\'"\\\r\x00\x7f' with status code: 1)");
  }
  SECTION("only single quotes: double-quoted literal") {
    CHECK(normalized_emsg(run("import os\nos.write(2, b\"it's\")\nos._exit(1)\n")) ==
          R"(Couldn't execute jailed code: stdout: b'', stderr: b"it's" with status code: 1)");
  }
  SECTION("only double quotes: single-quoted literal") {
    CHECK(normalized_emsg(run("import os\nos.write(2, b'say \"hi\"')\nos._exit(1)\n")) ==
          R"(Couldn't execute jailed code: stdout: b'', stderr: b'say "hi"' with status code: 1)");
  }
  SECTION("text printed to sys.stderr is UTF-8 encoded") {
    CHECK(
        normalized_emsg(run("import sys\nprint('\\u00e9', file=sys.stderr)\nsys.exit(2)\n")) ==
        R"(Couldn't execute jailed code: stdout: b'', stderr: b'\xc3\xa9\n' with status code: 2)");
  }
}
