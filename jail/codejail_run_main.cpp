// codejail-run: run one code-exec payload through the service's own execution
// path, without HTTP, and print the response body the service would send.
// Operators use it to debug a course problem; tests use it too.

#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "common/api_errors.h"
#include "common/config.h"
#include "common/log.h"
#include "common/payload.h"
#include "jail/executor.h"
#include "jail/probes.h"
#include "jail/process_setup.h"

namespace {

constexpr const char* kUsage = R"(Usage: codejail-run [OPTIONS] [PAYLOAD_FILE]

Runs one code-exec payload (the JSON of the API's `payload` field) through the
same execution path as codejail-service and prints the exact HTTP response
body the service would send. PAYLOAD_FILE '-' or absent: read standard input.

Options:
  --file PATH          upload PATH as a file named after its basename, as the
                       LMS uploads python_lib.zip (repeatable)
  --file NAME=PATH     upload PATH under NAME
  --config FILE        YAML configuration (default: $CODEJAIL_SERVICE_CFG if
                       set, else the embedded default configuration)
  --print-default-config
                       print the embedded default configuration and exit
  --self-test          run the startup confinement probes, print every probe and
                       every confinement layer with its state, and exit 0 only
                       when all probes pass
  --probe              before executing, run the startup probes and answer as
                       the service does when they fail (api.md 2.2, check 2)
  --slot N             worker slot to run as (0-255; the sandbox uid is
                       CODEJAIL_SERVICE.sandbox_uid_base + N); default 0
  --verbose            log at debug level (logs go to stderr)
  -h, --help           show this help and exit
  --version            show the version and exit

Exit status: 0 when the service would answer 200, 1 for any other HTTP
status (the body is printed either way; the status goes to stderr), 2 for
usage or configuration errors.
)";

struct Options {
  std::string payload_path = "-";
  std::string config_path;
  std::vector<std::pair<std::string, std::string>> files;  // name, path
  bool verbose = false;
  bool self_test = false;
  bool probe = false;
  int slot = 0;
};

[[noreturn]] void usage_error(const std::string& message) {
  std::cerr << "codejail-run: " << message << "\n(try --help)\n";
  std::exit(2);
}

bool read_file(const std::string& path, std::string& out) {
  if (path == "-") {
    out.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    return !std::cin.bad();
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream buffer;
  buffer << in.rdbuf();
  out = std::move(buffer).str();
  return true;
}

Options parse_args(int argc, char** argv) {
  Options options;
  bool payload_seen = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&](const char* flag) -> std::string {
      if (i + 1 >= argc) usage_error(std::string(flag) + " needs a value");
      return argv[++i];
    };
    if (arg == "-h" || arg == "--help") {
      std::cout << kUsage;
      std::exit(0);
    } else if (arg == "--version") {
      std::cout << "codejail-run " << CJS_VERSION << "\n";
      std::exit(0);
    } else if (arg == "--print-default-config") {
      std::cout << cjs::default_config_yaml();
      std::exit(0);
    } else if (arg == "--config") {
      options.config_path = value("--config");
    } else if (arg == "--file") {
      std::string spec = value("--file");
      auto eq = spec.find('=');
      if (eq != std::string::npos) {
        options.files.emplace_back(spec.substr(0, eq), spec.substr(eq + 1));
      } else {
        auto slash = spec.rfind('/');
        options.files.emplace_back(slash == std::string::npos ? spec : spec.substr(slash + 1),
                                   spec);
      }
    } else if (arg == "--verbose") {
      options.verbose = true;
    } else if (arg == "--self-test") {
      options.self_test = true;
    } else if (arg == "--probe") {
      options.probe = true;
    } else if (arg == "--slot") {
      std::string text = value("--slot");
      char* end = nullptr;
      long slot = std::strtol(text.c_str(), &end, 10);
      if (text.empty() || *end != '\0' || slot < 0 || slot > 255) {
        usage_error("--slot needs a number from 0 to 255");
      }
      options.slot = static_cast<int>(slot);
    } else if (arg.size() > 1 && arg[0] == '-' && arg != "-") {
      usage_error("unknown option " + arg);
    } else {
      if (payload_seen) usage_error("more than one payload file given");
      options.payload_path = arg;
      payload_seen = true;
    }
  }
  return options;
}

cjs::Config load_config(const Options& options) {
  std::string path = options.config_path;
  if (path.empty()) {
    if (const char* env = std::getenv("CODEJAIL_SERVICE_CFG"); env != nullptr && *env) path = env;
  }
  std::vector<std::string> warnings;
  cjs::Config config = path.empty() ? cjs::default_config() : cjs::load_config_file(path, warnings);
  for (const auto& w : warnings) cjs::log::warning(w, {{"config", config.source}});
  return config;
}

// Prints the body exactly; a trailing newline only for a human at a terminal.
int answer(int http_status, const std::string& body) {
  std::fwrite(body.data(), 1, body.size(), stdout);
  if (isatty(STDOUT_FILENO)) std::fputc('\n', stdout);
  std::fflush(stdout);
  if (http_status != 200) std::fprintf(stderr, "codejail-run: HTTP %d\n", http_status);
  return http_status == 200 ? 0 : 1;
}

// Prints each layer and each probe; 0 when every probe passed.
int self_test(cjs::jail::Executor& executor) {
  std::printf("codejail-run self-test (config: %s)\n\nconfinement layers:\n",
              executor.config().source.c_str());
  for (const auto& layer : executor.layer_states()) {
    std::printf("  %-14s %-8s %s\n", layer.name.c_str(), layer.active ? "active" : "INACTIVE",
                layer.detail.c_str());
  }
  cjs::jail::ProbeReport report = cjs::jail::run_startup_probes(executor);
  std::printf("\nstartup probes:\n");
  for (const auto& probe : report.probes) {
    std::printf("  %-14s %-8s %s\n", probe.name.c_str(), probe.passed ? "passed" : "FAILED",
                probe.reason.c_str());
  }
  // What the functionality probe's run really applied, as its interpreter
  // child reported it (the states above are what the executor plans).
  for (const auto& probe : report.probes) {
    if (probe.name != "functionality") continue;
    std::printf("\napplied to the functionality probe's run (%s):\n  %s (Landlock ABI %d)\n",
                probe.warm_start ? "warm start: a prestarted sandbox" : "cold start",
                cjs::applied_layer_names(probe.applied_layers).c_str(), probe.landlock_abi);
  }
  bool ok = report.all_passed();
  std::printf("\nresult: %s\n",
              ok ? "PASS: all probes passed" : "FAIL: the service would refuse to execute code");
  return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  Options options = parse_args(argc, argv);
  if (options.verbose) cjs::log::set_min_level(cjs::log::Level::kDebug);
  // This tool never needs the network (which the egress probe checks).
  cjs::jail::prepare_runner_process();

  try {
    cjs::Config config = load_config(options);
    if (options.self_test) {
      cjs::jail::Executor executor(std::move(config), options.slot);
      return self_test(executor);
    }
    // Check 1 of api.md 2.2, as the service does before reading the body.
    if (!config.enabled) return answer(500, cjs::error_body(cjs::kNotEnabledMessage));

    std::string payload_text;
    if (!read_file(options.payload_path, payload_text)) {
      usage_error("cannot read payload " + options.payload_path);
    }
    std::vector<cjs::UploadedFile> files;
    std::vector<std::string> file_names;
    for (const auto& [name, path] : options.files) {
      cjs::UploadedFile file{name, {}};
      if (!read_file(path, file.content)) usage_error("cannot read file " + path);
      // Duplicate names: the last one wins, as with a multipart upload.
      std::erase_if(files, [&](const auto& f) { return f.name == name; });
      std::erase(file_names, name);
      files.push_back(std::move(file));
      file_names.push_back(name);
    }

    cjs::PayloadCheck check = cjs::check_payload(payload_text, file_names);
    if (!check.payload) {
      if (!check.error.log_line.empty()) cjs::log::info(check.error.log_line);
      return answer(check.error.http_status, cjs::error_body(check.error.message));
    }
    cjs::jail::Executor executor(std::move(config), options.slot);
    // Check 2: the service never executes when its probes failed.
    if (options.probe && !cjs::jail::run_startup_probes(executor).all_passed()) {
      return answer(500, cjs::error_body(cjs::kNotConfiguredMessage));
    }
    cjs::ExecutionSummary report = executor.execute(*check.payload, files);
    cjs::log::Fields fields{{"status", report.telemetry_status},
                            {"wall_seconds", cjs::log::number(report.wall_seconds)}};
    if (report.sandbox_status) {
      fields.emplace_back("sandbox_status",
                          cjs::log::number(static_cast<long long>(*report.sandbox_status)));
    }
    fields.emplace_back("layers", cjs::applied_layer_names(report.applied_layers));
    fields.emplace_back("landlock_abi",
                        cjs::log::number(static_cast<long long>(report.landlock_abi)));
    if (!report.failure.empty()) fields.emplace_back("failure", report.failure);
    cjs::log::debug("execution finished", fields);
    if (!report.failure.empty()) cjs::log::error("execution machinery failed", fields);
    return answer(200, report.body);
  } catch (const cjs::ConfigError& e) {
    std::cerr << "codejail-run: configuration error: " << e.what() << "\n";
    return 2;
  }
}
