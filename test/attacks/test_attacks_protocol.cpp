// Attack catalogue items 41-45 (sandbox.md): protocol edge cases. Odd input
// and output never crash the service or leak into the next run.
#include <catch2/catch.hpp>

#include <string>

#include "attack_fixture.h"
#include "common/payload.h"

using namespace cjs::attack;

TEST_CASE("41: a NUL byte in the code fails cleanly", "[attack][protocol]") {
  auto executor = make_executor(attack_config(), slot_for(41));
  SECTION("a raw NUL in the source") {
    Outcome out = run(executor, std::string("x = 1\0\ny = 2\n", 13), R"({"a": 1})");
    CHECK(global(out.body(), "a") == "1");
    CHECK(
        normalize_sandbox_dir(emsg(out)) ==
        R"(Couldn't execute jailed code: stdout: b'', stderr: b'Traceback (most recent call last):)"
        R"(\n  File "/tmp/codejail-XXXXXXXX/jailed_code", line 19, in <module>\n    exec(code, g_dict))"
        R"(\n)" +
            cjs::test::exec_call_carets() + cjs::test::null_bytes_exception() +
            R"(: source code string cannot contain null bytes\n' with status code: 1)");
  }
  SECTION("NUL inside strings of the code and of the globals") {
    Outcome out = run(executor, "s = 'a\\x00b'\nt = n + '\\x00'\n", R"({"n": "x\u0000y"})");
    CHECK(out.body() == R"({"globals_dict":{"n":"x\u0000y","s":"a\u0000b","t":"x\u0000y\u0000"}})");
  }
  expect_clean_next_run(executor);
}

TEST_CASE("42: lone surrogates and invalid UTF-8 in the output never break the response",
          "[attack][protocol]") {
  auto executor = make_executor(attack_config(), slot_for(42));
  SECTION("invalid UTF-8 on stderr is shown as a bytes literal") {
    Outcome out = run(executor,
                      "import os, sys\n"
                      "os.write(2, b'\\xff\\xfe\\xed\\xa0\\x80 caf\\xc3\\xa9 \\x00')\n"
                      "sys.exit(3)\n");
    CHECK(
        emsg(out) ==
        R"(Couldn't execute jailed code: stdout: b'', stderr: b'\xff\xfe\xed\xa0\x80 caf\xc3\xa9 \x00' with status code: 3)");
  }
  SECTION("invalid UTF-8 on stdout with exit 0 is corrupted stdout") {
    Outcome out = run(executor, "import os\nos.write(1, b'\\xff\\xfe{')\n", R"({"a": 1})");
    CHECK(out.body() ==
          R"({"globals_dict":{"a":1},"emsg":"Sandboxed code produced corrupted stdout."})");
  }
  SECTION("globals: invalid bytes dropped, lone surrogates escaped") {
    Outcome out = run(executor,
                      "bad = b'\\xff'\n"
                      "good = b'caf\\xc3\\xa9'\n"
                      "lone = '\\ud800'\n"
                      "pair = '\\U0001f600'\n"
                      "mixed = ['\\udfff', b'\\xfe']\n"
                      "nested = {'k': 'ok\\u2028'}\n");
    CHECK(out.body() ==
          "{\"globals_dict\":{\"good\":\"caf\xc3\xa9\",\"lone\":\"\\ud800\","
          "\"pair\":\"\xf0\x9f\x98\x80\",\"nested\":{\"k\":\"ok\\u2028\"}}}");
  }
  SECTION("a lone surrogate in the input globals round-trips") {
    Outcome out = run(executor, "t = s + 'x'\n", R"({"s": "\udc80"})");
    CHECK(out.body() == R"({"globals_dict":{"s":"\udc80","t":"\udc80x"}})");
  }
  SECTION("a lone surrogate written to stderr") {
    Outcome out =
        run(executor, "import sys\nsys.stderr.write('\\udc80')\nsys.stderr.flush()\nsys.exit(2)\n");
    // The stderr text stream escapes it (backslashreplace).
    CHECK(emsg(out) ==
          R"(Couldn't execute jailed code: stdout: b'', stderr: b'\\udc80' with status code: 2)");
  }
  expect_clean_next_run(executor);
}

TEST_CASE("43: 10 MiB of globals round-trip", "[attack][protocol]") {
  auto executor = make_executor(attack_config(), slot_for(43));
  const std::string big(10u << 20, 'x');
  SECTION("given and echoed: the stdout cap allows the input size") {
    Outcome out = run(executor, "n = len(big)\nbig2 = big[:5]\n", R"({"big": ")" + big + "\"}");
    CHECK(out.body() == R"({"globals_dict":{"big":")" + big + R"(","n":10485760,"big2":"xxxxx"}})");
    CHECK_FALSE(out.report.stdout_truncated);
  }
  SECTION("produced by the code: over the 1 MiB cap is corrupted stdout") {
    Outcome out = run(executor, "out = 'y' * (10 << 20)\n", R"({"a": 1})");
    CHECK(out.body() ==
          R"({"globals_dict":{"a":1},"emsg":"Sandboxed code produced corrupted stdout."})");
    CHECK(out.report.stdout_truncated);
  }
  expect_clean_next_run(executor);
}

TEST_CASE("44: deeply nested JSON globals work or fail cleanly", "[attack][protocol]") {
  auto executor = make_executor(attack_config(), slot_for(44));
  auto nested = [](int depth) { return std::string(depth, '[') + std::string(depth, ']'); };
  SECTION("100000 levels: refused by the payload check") {
    cjs::PayloadCheck check = cjs::check_payload(
        R"({"code": "x = 1", "globals_dict": {"d": )" + nested(100000) + "}}", {});
    CHECK_FALSE(check.payload.has_value());
    CHECK(check.error.http_status == 400);
    CHECK(check.error.message ==
          "Unable to parse payload JSON: maximum recursion depth exceeded while decoding a "
          "JSON array from a unicode string");
  }
  SECTION("the deepest payload the check accepts") {
    // The payload object and globals_dict are two levels of the 1000.
    cjs::PayloadCheck refused =
        cjs::check_payload(R"({"code": "x = 1", "globals_dict": {"d": )" + nested(999) + "}}", {});
    CHECK_FALSE(refused.payload.has_value());
    // It passes the service's check, then the sandbox's own json hits
    // Python's recursion limit: a clean error, the input globals echoed.
    // CPython 3.11 fails in json.load; 3.13 decodes it and fails in
    // json.dump, after part of the output (the wrapper's stdout) was written.
    // (3.12, not run here, gave C code its own recursion limit: it is taken
    // to behave as 3.13 does.)
    Outcome out = run(executor, "x = 1\n", R"({"d": )" + nested(998) + "}");
    CHECK(global(out.body(), "d") == nested(998));
    CHECK(global(out.body(), "x") == "<absent>");
    if (cjs::test::sandbox_python_minor() < 12) {
      CHECK_THAT(
          emsg(out),
          Catch::StartsWith("Couldn't execute jailed code: stdout: b'', stderr: b'Traceback") &&
              Catch::EndsWith(
                  R"(\nRecursionError: maximum recursion depth exceeded while )"
                  R"(decoding a JSON array from a unicode string\n' with status code: 1)"));
    } else {
      CHECK_THAT(emsg(out),
                 Catch::StartsWith("Couldn't execute jailed code: stdout: b'{\"d\": [[[") &&
                     Catch::Contains("in dump\\n") &&
                     Catch::EndsWith(R"(\nRecursionError: maximum recursion depth exceeded\n' )"
                                     R"(with status code: 1)"));
    }
  }
  SECTION("900 levels work") {
    Outcome out = run(executor, "x = 1\n", R"({"d": )" + nested(900) + "}");
    CHECK(out.body() == R"({"globals_dict":{"d":)" + nested(900) + R"(,"x":1}})");
  }
  SECTION("nesting the code builds itself") {
    Outcome out = run(executor,
                      "d = []\n"
                      "for _ in range(100000):\n"
                      "    d = [d]\n"
                      "del _\n"
                      "x = 1\n");
    // json.dumps raises RecursionError inside the sandbox: the key is dropped.
    CHECK(out.body() == R"({"globals_dict":{"x":1}})");
  }
  expect_clean_next_run(executor);
}

// Extracts the uploaded zip bomb into tmp/ and reports the error and the size.
// (A function: kPyAttempt lives in another translation unit.)
static std::string extract_bomb_into_tmp() {
  return kPyAttempt +
         "import os, zipfile\n"
         "err = attempt(zipfile.ZipFile('python_lib.zip').extract, 'bomb.bin', 'tmp')\n"
         "size = os.path.getsize('tmp/bomb.bin')\n";
}

TEST_CASE("45: a zip bomb as python_lib.zip costs only what the code reads", "[attack][protocol]") {
  const std::string& bomb = zip_bomb();
  REQUIRE(bomb.size() < (2u << 20));
  RunArgs args;
  args.files = {cjs::UploadedFile{"python_lib.zip", bomb}};
  args.python_path = {"python_lib.zip"};
  SECTION("importing from it is cheap") {
    auto executor = make_executor(attack_config(), slot_for(45));
    // Inflating the 1 GiB member would cost many times a trivial run.
    const double bound = prompt_end_bound(executor, 0.0);
    Outcome out =
        run(executor,
            "import m, zipfile\n"
            "v = m.V\n"
            "sizes = [i.file_size for i in zipfile.ZipFile('python_lib.zip').infolist()]\n",
            "{}", args);
    CHECK(out.body() == R"({"globals_dict":{"v":1,"sizes":[6,1073741824]}})");
    CHECK(out.seconds < bound);
    expect_clean_next_run(executor);
  }
  SECTION("reading the member into memory hits VMEM") {
    auto executor = make_executor(attack_config(), slot_for(45, 1));
    Outcome out = run(executor,
                      "import zipfile\n"
                      "data = zipfile.ZipFile('python_lib.zip').open('bomb.bin').read(1 << 30)\n",
                      "{}", args);
    CHECK_THAT(emsg(out),
               Catch::EndsWith(
                   R"(\nMemoryError: Unable to allocate output buffer.\n' with status code: 1)"));
    expect_clean_next_run(executor);
  }
  SECTION("extracting it into tmp/ stops at FSIZE") {
    auto executor = make_executor(attack_config(), slot_for(45, 1));  // FSIZE 1 MiB
    Outcome out = run(executor, extract_bomb_into_tmp(), "{}", args);
    CHECK(out.body() ==
          R"({"globals_dict":{"err":"OSError: [Errno 27] File too large","size":1048576}})");
    expect_clean_next_run(executor);
  }
}

TEST_CASE("45: a zip bomb extracted into tmp/ stops at tmp_size", "[attack][deny]") {
  // FSIZE above tmp/'s 16 MiB: only the size-capped tmpfs stops the bomb
  // (without it the extraction fills the host's disk up to FSIZE).
  RunArgs args;
  args.files = {cjs::UploadedFile{"python_lib.zip", zip_bomb()}};
  args.python_path = {"python_lib.zip"};
  auto executor = make_executor(
      attack_config([](cjs::Config& c) { c.limits.fsize_bytes = 64 << 20; }), slot_for(45, 2));
  Outcome out = run(executor, extract_bomb_into_tmp(), "{}", args);
  INFO("body: " << out.body());
  CHECK(global_str(out.body(), "err") == "OSError: [Errno 28] No space left on device");
  CHECK(global_int(out.body(), "size") <= 16 << 20);
  CHECK(global_int(out.body(), "size") >= 15 << 20);
  expect_clean_next_run(executor);
}
