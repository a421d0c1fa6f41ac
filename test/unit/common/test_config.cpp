// Configuration parsing: defaults, reference compatibility, and rejection of
// malformed values with a message naming the key.
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "common/config.h"

namespace {

using Catch::Contains;
using Catch::StartsWith;
using cjs::Config;
using cjs::ConfigError;

Config Parse(const std::string& yaml, std::vector<std::string>& warnings) {
  return cjs::parse_config(yaml, "test.yaml", warnings);
}

Config Parse(const std::string& yaml) {
  std::vector<std::string> warnings;
  return Parse(yaml, warnings);
}

bool HasWarning(const std::vector<std::string>& warnings, const std::string& text) {
  return std::find(warnings.begin(), warnings.end(), text) != warnings.end();
}

// The message of the ConfigError parsing `yaml` throws ("" if none).
std::string ErrorOf(const std::string& yaml) {
  try {
    Parse(yaml);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

// Field-by-field so a mismatch names the field.
void CheckSameSettings(const Config& a, const Config& b) {
  CHECK(a.enabled == b.enabled);
  CHECK(a.python_bin == b.python_bin);
  CHECK(a.sandbox_user == b.sandbox_user);
  CHECK(a.limits == b.limits);
  CHECK(a.limit_overrides.size() == b.limit_overrides.size());
  CHECK(a.bind == b.bind);
  CHECK(a.workers == b.workers);
  CHECK(a.max_requests == b.max_requests);
  CHECK(a.max_requests_jitter == b.max_requests_jitter);
  CHECK(a.stdout_cap_bytes == b.stdout_cap_bytes);
  CHECK(a.stderr_cap_bytes == b.stderr_cap_bytes);
  CHECK(a.max_body_bytes == b.max_body_bytes);
  CHECK(a.max_connections == b.max_connections);
  CHECK(a.max_connections_per_ip == b.max_connections_per_ip);
  CHECK(a.max_buffered_body_bytes == b.max_buffered_body_bytes);
  CHECK(a.header_timeout_seconds == b.header_timeout_seconds);
  CHECK(a.queue_timeout_seconds == b.queue_timeout_seconds);
  CHECK(a.sandbox_root == b.sandbox_root);
  CHECK(a.tmp_size_bytes == b.tmp_size_bytes);
  CHECK(a.memory_limit_bytes == b.memory_limit_bytes);
  CHECK(a.sandbox_uid_base == b.sandbox_uid_base);
  CHECK(a.require_apparmor == b.require_apparmor);
  CHECK(a.log_code == b.log_code);
  CHECK(a.warm_start == b.warm_start);
}

constexpr const char* kNotSetWarning =
    "CODEJAIL_ENABLED is not set; code execution is disabled (reference default)";

}  // namespace

TEST_CASE("default_config equals the struct defaults with production limits", "[config]") {
  const Config parsed = cjs::default_config();
  // The embedded default sets edx-platform's production limits (CPU 3 where
  // edx-platform has 1); the struct keeps the codejail library's, which a
  // file without CODE_JAIL.limits gets.
  Config expected;
  expected.limits.cpu_seconds = 3;
  expected.limits.realtime_seconds = 3;
  expected.limits.vmem_bytes = 512 << 20;
  expected.limits.fsize_bytes = 1 << 20;
  expected.limits.nproc = 15;
  CheckSameSettings(parsed, expected);
  CHECK_FALSE(parsed.limits == Config{}.limits);
  CHECK(parsed.limit_overrides.empty());
  CHECK(parsed.enabled);
  CHECK(parsed.source == "<embedded default>");
}

TEST_CASE("the embedded default parses without warnings and spells out every key", "[config]") {
  std::vector<std::string> warnings;
  cjs::parse_config(cjs::default_config_yaml(), "default", warnings);
  CHECK(warnings.empty());
  const std::string text(cjs::default_config_yaml());
  for (const char* key : {"CODEJAIL_ENABLED:",
                          "CODE_JAIL:",
                          "python_bin:",
                          "user:",
                          "limits:",
                          "CPU:",
                          "REALTIME:",
                          "VMEM:",
                          "FSIZE:",
                          "NPROC:",
                          "PROXY:",
                          "limit_overrides:",
                          "CODEJAIL_SERVICE:",
                          "bind:",
                          "workers:",
                          "max_requests:",
                          "max_requests_jitter:",
                          "stdout_cap_bytes:",
                          "stderr_cap_bytes:",
                          "max_body_bytes:",
                          "max_connections:",
                          "max_connections_per_ip:",
                          "max_buffered_body_bytes:",
                          "header_timeout_seconds:",
                          "queue_timeout_seconds:",
                          "sandbox_root:",
                          "tmp_size_bytes:",
                          "memory_limit_bytes:",
                          "sandbox_uid_base:",
                          "require_apparmor:",
                          "log_code:",
                          "warm_start:"}) {
    CAPTURE(key);
    CHECK_THAT(text, Contains(key));
  }
}

TEST_CASE("an empty or comment-only file gives defaults with execution disabled", "[config]") {
  for (const std::string yaml : {"", "\n", "# nothing here\n# at all\n", "---\n"}) {
    CAPTURE(yaml);
    std::vector<std::string> warnings;
    const Config config = Parse(yaml, warnings);
    CHECK_FALSE(config.enabled);
    Config expected;
    expected.enabled = false;
    CheckSameSettings(config, expected);
    CHECK(config.source == "test.yaml");
    CHECK(HasWarning(warnings, kNotSetWarning));
  }
}

TEST_CASE("a reference-style file parses, warning about keys it does not use", "[config]") {
  const std::string yaml = R"(
SECRET_KEY: "not-so-secret"
ALLOWED_HOSTS:
  - codejail.example.com
  - localhost
LOGGING:
  version: 1
  handlers: {console: {class: logging.StreamHandler}}
CODEJAIL_ENABLED: true
CODE_JAIL:
  python_bin: /sandbox/venv/bin/python
  user: sandbox
  limits:
    CPU: 3
    REALTIME: 3
    VMEM: 536870912
    FSIZE: 1048576
    NPROC: 15
    PROXY: 0
  limit_overrides:
    "course-v1:edX+DemoX+Demo_Course":
      CPU: 5
      REALTIME: 10.5
    course-v1:MITx+6.00x+2T2024:
      NPROC: 30
    course-v1:Nothing+Set+Here:
  foo: bar
)";
  std::vector<std::string> warnings;
  const Config config = Parse(yaml, warnings);
  CHECK(config.enabled);
  CHECK(config.python_bin == "/sandbox/venv/bin/python");
  CHECK(config.sandbox_user == "sandbox");
  CHECK(config.limits.cpu_seconds == 3);
  CHECK(config.limits.realtime_seconds == 3.0);
  CHECK(config.limits.vmem_bytes == 536870912);
  CHECK(config.limits.fsize_bytes == 1048576);
  CHECK(config.limits.nproc == 15);
  CHECK(config.limits.proxy == 0);

  REQUIRE(config.limit_overrides.size() == 3);
  const cjs::LimitOverride& demo = config.limit_overrides.at("course-v1:edX+DemoX+Demo_Course");
  CHECK(demo.cpu_seconds == 5);
  CHECK(demo.realtime_seconds == 10.5);
  CHECK_FALSE(demo.vmem_bytes);
  CHECK_FALSE(demo.fsize_bytes);
  CHECK_FALSE(demo.nproc);
  const cjs::LimitOverride& mit = config.limit_overrides.at("course-v1:MITx+6.00x+2T2024");
  CHECK(mit.nproc == 30);
  CHECK_FALSE(mit.cpu_seconds);
  const cjs::LimitOverride& empty = config.limit_overrides.at("course-v1:Nothing+Set+Here");
  CHECK_FALSE(empty.cpu_seconds);
  CHECK_FALSE(empty.realtime_seconds);

  // Our own section is absent: its defaults apply.
  CHECK(config.workers == 4);
  CHECK(config.bind == "127.0.0.1:8550");

  CHECK(HasWarning(warnings, "unknown key 'SECRET_KEY' ignored"));
  CHECK(HasWarning(warnings, "unknown key 'ALLOWED_HOSTS' ignored"));
  CHECK(HasWarning(warnings, "unknown key 'LOGGING' ignored"));
  CHECK(HasWarning(warnings, "unknown key 'CODE_JAIL.foo' ignored"));
  CHECK_FALSE(HasWarning(warnings, kNotSetWarning));
  CHECK(warnings.size() == 4);
}

TEST_CASE("CODEJAIL_SERVICE settings are read", "[config]") {
  const Config config = Parse(R"(
CODEJAIL_ENABLED: false
CODEJAIL_SERVICE:
  bind: 0.0.0.0:8080
  workers: 10
  max_requests: 0
  max_requests_jitter: 0
  stdout_cap_bytes: 1024
  stderr_cap_bytes: 2048
  max_body_bytes: 1_048_576
  max_connections: 20
  max_connections_per_ip: 8
  max_buffered_body_bytes: 2097152
  header_timeout_seconds: 2.5
  sandbox_root: /var/lib/codejail
  tmp_size_bytes: 4096
  memory_limit_bytes: 0
  sandbox_uid_base: 70000
  require_apparmor: yes
  log_code: True
  warm_start: false
)");
  CHECK_FALSE(config.enabled);
  CHECK(config.bind == "0.0.0.0:8080");
  CHECK(config.workers == 10);
  CHECK(config.max_requests == 0);
  CHECK(config.max_requests_jitter == 0);
  CHECK(config.stdout_cap_bytes == 1024);
  CHECK(config.stderr_cap_bytes == 2048);
  CHECK(config.max_body_bytes == 1048576);
  CHECK(config.max_connections == 20);
  CHECK(config.max_connections_per_ip == 8);
  CHECK(config.max_buffered_body_bytes == 2097152);
  CHECK(config.header_timeout_seconds == 2.5);
  CHECK(config.sandbox_root == "/var/lib/codejail");
  CHECK(config.tmp_size_bytes == 4096);
  CHECK(config.memory_limit_bytes == 0);
  CHECK(config.sandbox_uid_base == 70000);
  CHECK(config.require_apparmor);
  CHECK(config.log_code);
  CHECK_FALSE(config.warm_start);
}

TEST_CASE("unknown keys in our own section warn with the full path", "[config]") {
  std::vector<std::string> warnings;
  Parse("CODEJAIL_ENABLED: true\nCODEJAIL_SERVICE: {wrokers: 3}\n", warnings);
  CHECK(warnings == std::vector<std::string>{"unknown key 'CODEJAIL_SERVICE.wrokers' ignored"});
}

TEST_CASE("fractional REALTIME and large VMEM are accepted", "[config]") {
  const Config config = Parse(
      "CODEJAIL_ENABLED: true\n"
      "CODE_JAIL: {limits: {REALTIME: 0.5, VMEM: 536870912}}\n");
  CHECK(config.limits.realtime_seconds == 0.5);
  CHECK(config.limits.vmem_bytes == 536870912);
  // Limits not given keep their defaults (the reference overlays its file too).
  CHECK(config.limits.cpu_seconds == 1);
  CHECK(config.limits.nproc == 15);

  CHECK(Parse("CODE_JAIL: {limits: {REALTIME: 2}}").limits.realtime_seconds == 2.0);
  CHECK(Parse("CODE_JAIL: {limits: {REALTIME: 1.5e1}}").limits.realtime_seconds == 15.0);
  CHECK(Parse("CODE_JAIL: {limits: {REALTIME: 0}}").limits.realtime_seconds == 0.0);
  CHECK(Parse("CODE_JAIL: {limits: {VMEM: 8589934592}}").limits.vmem_bytes == 8589934592);
  CHECK(Parse("CODE_JAIL: {limits: {CPU: !!int 7}}").limits.cpu_seconds == 7);
}

TEST_CASE("bad values throw ConfigError naming the key", "[config]") {
  // {yaml, text the message must contain}
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"CODE_JAIL: {limits: {CPU: 1.5}}",
       "CODE_JAIL.limits.CPU: expected a non-negative integer, got '1.5'"},
      {"CODE_JAIL: {limits: {CPU: -1}}",
       "CODE_JAIL.limits.CPU: expected a non-negative integer, got '-1'"},
      {"CODE_JAIL: {limits: {CPU: abc}}", "CODE_JAIL.limits.CPU: expected a non-negative integer"},
      {"CODE_JAIL: {limits: {CPU: '1'}}", "CODE_JAIL.limits.CPU: expected a non-negative integer"},
      {"CODE_JAIL: {limits: {CPU: 010}}", "CODE_JAIL.limits.CPU: expected a non-negative integer"},
      {"CODE_JAIL: {limits: {CPU: 0x10}}", "CODE_JAIL.limits.CPU"},
      {"CODE_JAIL: {limits: {CPU: }}",
       "CODE_JAIL.limits.CPU: expected a non-negative integer, "
       "got null"},
      {"CODE_JAIL: {limits: {CPU: [1]}}",
       "CODE_JAIL.limits.CPU: expected a non-negative "
       "integer, got a list"},
      {"CODE_JAIL: {limits: {CPU: 99999999999999999999}}", "CODE_JAIL.limits.CPU"},
      {"CODE_JAIL: {limits: {REALTIME: -0.5}}",
       "CODE_JAIL.limits.REALTIME: expected a non-negative number"},
      {"CODE_JAIL: {limits: {REALTIME: .inf}}", "CODE_JAIL.limits.REALTIME"},
      {"CODE_JAIL: {limits: {REALTIME: .nan}}", "CODE_JAIL.limits.REALTIME"},
      {"CODE_JAIL: {limits: {REALTIME: 1e400}}", "CODE_JAIL.limits.REALTIME"},
      {"CODE_JAIL: {limits: {REALTIME: '1'}}", "CODE_JAIL.limits.REALTIME"},
      {"CODE_JAIL: {limits: {VMEM: 512M}}", "CODE_JAIL.limits.VMEM"},
      {"CODE_JAIL: {limits: {FSIZE: -1}}", "CODE_JAIL.limits.FSIZE"},
      {"CODE_JAIL: {limits: {NPROC: 1.0}}", "CODE_JAIL.limits.NPROC"},
      {"CODE_JAIL: {limits: {PROXY: 2}}", "CODE_JAIL.limits.PROXY"},
      {"CODE_JAIL: {limits: [CPU, 1]}", "CODE_JAIL.limits: expected a map, got a list"},
      {"CODE_JAIL: {limits: 5}", "CODE_JAIL.limits: expected a map, got '5'"},
      {"CODE_JAIL: [a]", "CODE_JAIL: expected a map, got a list"},
      {"CODE_JAIL: {limit_overrides: [a, b]}", "CODE_JAIL.limit_overrides: expected a map"},
      {"CODE_JAIL: {limit_overrides: {course-v1:a+b+c: 3}}",
       "CODE_JAIL.limit_overrides.course-v1:a+b+c: expected a map of limits, got '3'"},
      {"CODE_JAIL: {limit_overrides: {course-v1:a+b+c: {CPU: 1.5}}}",
       "CODE_JAIL.limit_overrides.course-v1:a+b+c.CPU: expected a non-negative integer, "
       "got '1.5'"},
      {"CODE_JAIL: {limit_overrides: {x: {REALTIME: fast}}}",
       "CODE_JAIL.limit_overrides.x.REALTIME: expected a non-negative number"},
      {"CODE_JAIL: {python_bin: python3}", "CODE_JAIL.python_bin: expected an absolute path"},
      {"CODE_JAIL: {python_bin: }", "CODE_JAIL.python_bin"},
      {"CODE_JAIL: {python_bin: [/usr/bin/python]}", "CODE_JAIL.python_bin"},
      {"CODE_JAIL: {user: ''}", "CODE_JAIL.user"},
      {"CODE_JAIL: {user: {a: b}}", "CODE_JAIL.user"},
      {"CODEJAIL_ENABLED: maybe", "CODEJAIL_ENABLED: expected true or false, got 'maybe'"},
      {"CODEJAIL_ENABLED: 'false'", "CODEJAIL_ENABLED: expected true or false"},
      {"CODEJAIL_ENABLED: 1", "CODEJAIL_ENABLED: expected true or false"},
      {"CODEJAIL_ENABLED:", "CODEJAIL_ENABLED: expected true or false, got null"},
      {"CODEJAIL_SERVICE: {workers: 0}",
       "CODEJAIL_SERVICE.workers: expected an integer from 1 "
       "to 256, got '0'"},
      {"CODEJAIL_SERVICE: {workers: 257}", "CODEJAIL_SERVICE.workers"},
      {"CODEJAIL_SERVICE: {workers: four}", "CODEJAIL_SERVICE.workers"},
      {"CODEJAIL_SERVICE: {max_requests: -1}", "CODEJAIL_SERVICE.max_requests"},
      {"CODEJAIL_SERVICE: {max_requests: 3000000000}", "CODEJAIL_SERVICE.max_requests"},
      {"CODEJAIL_SERVICE: {max_requests_jitter: -5}", "CODEJAIL_SERVICE.max_requests_jitter"},
      {"CODEJAIL_SERVICE: {stdout_cap_bytes: 1023}",
       "CODEJAIL_SERVICE.stdout_cap_bytes: expected an integer of at least 1024, got '1023'"},
      {"CODEJAIL_SERVICE: {stderr_cap_bytes: 0}", "CODEJAIL_SERVICE.stderr_cap_bytes"},
      {"CODEJAIL_SERVICE: {max_body_bytes: 10}", "CODEJAIL_SERVICE.max_body_bytes"},
      {"CODEJAIL_SERVICE: {max_connections: 0}",
       "CODEJAIL_SERVICE.max_connections: expected an "
       "integer from 1 to 100000, got '0'"},
      {"CODEJAIL_SERVICE: {max_connections: 100001}", "CODEJAIL_SERVICE.max_connections"},
      {"CODEJAIL_SERVICE: {max_connections_per_ip: 0}", "CODEJAIL_SERVICE.max_connections_per_ip"},
      {"CODEJAIL_SERVICE: {max_buffered_body_bytes: 10}",
       "CODEJAIL_SERVICE.max_buffered_body_bytes"},
      {"CODEJAIL_SERVICE: {header_timeout_seconds: 0}", "CODEJAIL_SERVICE.header_timeout_seconds"},
      {"CODEJAIL_SERVICE: {tmp_size_bytes: 0}", "CODEJAIL_SERVICE.tmp_size_bytes"},
      {"CODEJAIL_SERVICE: {sandbox_uid_base: 0}", "CODEJAIL_SERVICE.sandbox_uid_base"},
      {"CODEJAIL_SERVICE: {sandbox_uid_base: 999}", "CODEJAIL_SERVICE.sandbox_uid_base"},
      {"CODEJAIL_SERVICE: {memory_limit_bytes: -1}", "CODEJAIL_SERVICE.memory_limit_bytes"},
      {"CODEJAIL_SERVICE: {sandbox_root: tmp}",
       "CODEJAIL_SERVICE.sandbox_root: expected an "
       "absolute path"},
      {"CODEJAIL_SERVICE: {require_apparmor: 'yes'}", "CODEJAIL_SERVICE.require_apparmor"},
      {"CODEJAIL_SERVICE: {log_code: 0}", "CODEJAIL_SERVICE.log_code"},
      {"CODEJAIL_SERVICE: {warm_start: maybe}", "CODEJAIL_SERVICE.warm_start"},
      {"CODEJAIL_SERVICE: {bind: 8080}", "CODEJAIL_SERVICE.bind: expected HOST:PORT"},
      {"CODEJAIL_SERVICE: [bind]", "CODEJAIL_SERVICE: expected a map, got a list"},
      {"- a\n- b\n", "test.yaml: expected a map of settings at the top level, got a list"},
      {"just a string", "test.yaml: expected a map of settings at the top level"},
  };
  for (const auto& [yaml, expected] : cases) {
    CAPTURE(yaml);
    const std::string message = ErrorOf(yaml);
    CHECK_THAT(message, Contains(expected));
    // Every value error says where it is.
    CHECK_THAT(message, Contains("test.yaml"));
  }
}

TEST_CASE("value errors report the line", "[config]") {
  const std::string message = ErrorOf(
      "CODEJAIL_ENABLED: true\n"
      "CODE_JAIL:\n"
      "  limits:\n"
      "    CPU: 1.5\n");
  CHECK_THAT(message, StartsWith("CODE_JAIL.limits.CPU: expected a non-negative integer, "
                                 "got '1.5'"));
  CHECK_THAT(message, Contains("test.yaml, line 4"));
}

TEST_CASE("unknown limit names are errors, not warnings", "[config]") {
  CHECK_THAT(ErrorOf("CODE_JAIL: {limits: {MEMORY: 1}}"),
             StartsWith("CODE_JAIL.limits.MEMORY: unknown limit name"));
  CHECK_THAT(ErrorOf("CODE_JAIL: {limits: {cpu: 1}}"),
             Contains("limit names are upper-case: 'CPU'"));
  CHECK_THAT(ErrorOf("CODE_JAIL: {limit_overrides: {course-v1:a+b+c: {CPUS: 2}}}"),
             StartsWith("CODE_JAIL.limit_overrides.course-v1:a+b+c.CPUS: unknown limit name"));
}

TEST_CASE("PROXY is accepted and ignored", "[config]") {
  SECTION("0 is silent") {
    std::vector<std::string> warnings;
    const Config config =
        Parse("CODEJAIL_ENABLED: true\nCODE_JAIL: {limits: {PROXY: 0}}\n", warnings);
    CHECK(warnings.empty());
    CHECK(config.limits.proxy == 0);
  }
  SECTION("1 warns") {
    std::vector<std::string> warnings;
    const Config config =
        Parse("CODEJAIL_ENABLED: true\nCODE_JAIL: {limits: {PROXY: 1}}\n", warnings);
    CHECK(warnings ==
          std::vector<std::string>{"CODE_JAIL.limits.PROXY is not supported and is ignored"});
    CHECK(config.limits.proxy == 1);
  }
  SECTION("per context it warns and is dropped") {
    std::vector<std::string> warnings;
    const Config config = Parse(
        "CODEJAIL_ENABLED: true\n"
        "CODE_JAIL: {limit_overrides: {course-v1:a+b+c: {PROXY: 1, CPU: 2}}}\n",
        warnings);
    REQUIRE(warnings.size() == 1);
    CHECK_THAT(warnings[0], Contains("CODE_JAIL.limit_overrides.course-v1:a+b+c.PROXY"));
    CHECK_THAT(warnings[0], Contains("ignored"));
    CHECK(config.limit_overrides.at("course-v1:a+b+c").cpu_seconds == 2);
  }
}

TEST_CASE("limit_overrides contexts may be null or empty", "[config]") {
  std::vector<std::string> warnings;
  const Config config = Parse(
      "CODEJAIL_ENABLED: true\n"
      "CODE_JAIL:\n"
      "  limit_overrides:\n"
      "    a: ~\n"
      "    b: {}\n"
      "    c:\n",
      warnings);
  CHECK(warnings.empty());
  REQUIRE(config.limit_overrides.size() == 3);
  for (const auto& [context, entry] : config.limit_overrides) {
    CAPTURE(context);
    CHECK_FALSE(entry.cpu_seconds);
    CHECK_FALSE(entry.realtime_seconds);
    CHECK_FALSE(entry.vmem_bytes);
    CHECK_FALSE(entry.fsize_bytes);
    CHECK_FALSE(entry.nproc);
  }
  CHECK(Parse("CODE_JAIL: {limit_overrides: }").limit_overrides.empty());
  CHECK(Parse("CODE_JAIL: {limit_overrides: {}}").limit_overrides.empty());
}

TEST_CASE("booleans follow YAML 1.1 as PyYAML reads them", "[config]") {
  for (const char* yes : {"true", "True", "TRUE", "yes", "Yes", "on", "ON", "!!bool true"}) {
    CAPTURE(yes);
    CHECK(Parse(std::string("CODEJAIL_ENABLED: ") + yes).enabled);
  }
  for (const char* no : {"false", "False", "no", "NO", "off", "Off"}) {
    CAPTURE(no);
    CHECK_FALSE(Parse(std::string("CODEJAIL_ENABLED: ") + no).enabled);
  }
}

TEST_CASE("bind accepts IPv4, [IPv6] and names with a valid port", "[config]") {
  for (const char* good :
       {"127.0.0.1:8550", "0.0.0.0:1", "'[::1]:8080'", "'[::]:65535'", "'[fe80::1]:80'",
        "localhost:8080", "codejail.internal:80", "codejail-service_1:443"}) {
    CAPTURE(good);
    CHECK_NOTHROW(Parse(std::string("CODEJAIL_SERVICE: {bind: ") + good + "}"));
  }
  CHECK(Parse("CODEJAIL_SERVICE: {bind: '[::1]:8080'}").bind == "[::1]:8080");
  for (const char* bad :
       {"localhost", ":8080", "localhost:", "localhost:0", "localhost:65536", "localhost:-1",
        "localhost:+80", "localhost:80x", "::1:8080", "[::1]8080", "[::1]:", "[nope]:80",
        "999.1.1.1:80", "1.2.3:80", "bad host:80", "host/x:80", ".host:80"}) {
    CAPTURE(bad);
    CHECK_THAT(ErrorOf(std::string("CODEJAIL_SERVICE: {bind: '") + bad + "'}"),
               StartsWith("CODEJAIL_SERVICE.bind: expected HOST:PORT"));
  }
}

TEST_CASE("YAML syntax errors name the source and line", "[config]") {
  const std::string message = ErrorOf("CODEJAIL_ENABLED: true\nCODE_JAIL: {limits: [\n");
  CHECK_THAT(message, StartsWith("test.yaml:"));
  CHECK_THAT(message, Contains("YAML syntax error"));
  CHECK_THAT(ErrorOf("CODEJAIL_ENABLED: true\n  bad: indent\n"), StartsWith("test.yaml:2:"));
}

TEST_CASE("several YAML documents are refused", "[config]") {
  CHECK_THAT(ErrorOf("CODEJAIL_ENABLED: false\n---\nCODEJAIL_ENABLED: true\n"),
             Contains("expected a single YAML document"));
}

TEST_CASE("duplicate keys: the last wins, as in PyYAML, with a warning", "[config]") {
  std::vector<std::string> warnings;
  const Config config = Parse(
      "CODEJAIL_ENABLED: true\n"
      "CODE_JAIL:\n"
      "  limits: {CPU: 2, CPU: 3}\n"
      "  limit_overrides:\n"
      "    x: {CPU: 5, NPROC: 3}\n"
      "    x: {CPU: 6}\n",
      warnings);
  CHECK(config.limits.cpu_seconds == 3);
  // The later map replaces the earlier one entirely.
  CHECK(config.limit_overrides.at("x").cpu_seconds == 6);
  CHECK_FALSE(config.limit_overrides.at("x").nproc);
  CHECK(HasWarning(warnings, "duplicate key 'CODE_JAIL.limits.CPU': the last value is used"));
  CHECK(
      HasWarning(warnings, "duplicate key 'CODE_JAIL.limit_overrides.x': the last value is used"));
}

TEST_CASE("anchors and << merge keys work as in PyYAML", "[config]") {
  std::vector<std::string> warnings;
  const Config config = Parse(R"(
CODEJAIL_ENABLED: true
CODE_JAIL:
  limits: &base {CPU: 2, REALTIME: 4}
  limit_overrides:
    course-v1:a+b+c:
      <<: *base
      CPU: 7
    course-v1:d+e+f: *base
)",
                              warnings);
  CHECK(warnings.empty());
  CHECK(config.limits.cpu_seconds == 2);
  const cjs::LimitOverride& merged = config.limit_overrides.at("course-v1:a+b+c");
  CHECK(merged.cpu_seconds == 7);  // explicit keys win over merged ones
  CHECK(merged.realtime_seconds == 4.0);
  CHECK(config.limit_overrides.at("course-v1:d+e+f").cpu_seconds == 2);
}

TEST_CASE("a map merging itself is refused rather than recursing forever", "[config]") {
  CHECK_THAT(ErrorOf("CODE_JAIL: &a {<<: *a}"), Contains("merge keys nested too deeply"));
  CHECK_THAT(ErrorOf("CODE_JAIL: {limits: &a {CPU: 1, <<: *a}}"),
             Contains("merge keys nested too deeply"));
}

TEST_CASE("control characters in keys are escaped in warnings", "[config]") {
  std::vector<std::string> warnings;
  Parse("CODEJAIL_ENABLED: true\n\"a\\x1bb\": 1\n", warnings);
  CHECK(warnings == std::vector<std::string>{"unknown key 'a\\x1bb' ignored"});
}

TEST_CASE("load_config_file reads a file and records its path", "[config]") {
  char path[] = "/tmp/cjs-test-config-XXXXXX";
  const int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  close(fd);
  {
    std::ofstream out(path);
    out << "CODEJAIL_ENABLED: true\nCODE_JAIL: {limits: {CPU: 3}}\nDEBUG: false\n";
  }
  std::vector<std::string> warnings;
  const Config config = cjs::load_config_file(path, warnings);
  CHECK(config.source == path);
  CHECK(config.enabled);
  CHECK(config.limits.cpu_seconds == 3);
  CHECK(warnings == std::vector<std::string>{"unknown key 'DEBUG' ignored"});

  {
    std::ofstream out(path);
    out << "CODE_JAIL: {limits: {CPU: [\n";
  }
  try {
    cjs::load_config_file(path, warnings);
    FAIL("expected ConfigError");
  } catch (const ConfigError& e) {
    CHECK_THAT(e.what(), StartsWith(std::string(path) + ":"));
  }
  unlink(path);

  CHECK_THROWS_WITH(cjs::load_config_file(path, warnings),
                    StartsWith("cannot read config file '" + std::string(path) + "'"));
  CHECK_THROWS_AS(cjs::load_config_file("/", warnings), ConfigError);
}
