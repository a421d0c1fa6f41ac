// codejail-service: the HTTP service. See server/supervisor/supervisor.h for the
// process model and README.md for operating it.

#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "common/config.h"
#include "common/log.h"
#include "server/service_config.h"
#include "server/supervisor/supervisor.h"

namespace {

constexpr const char* kUsage = R"(Usage: codejail-service [OPTIONS]

Runs Python from course problems in a sandbox, behind the Open edX
codejail-service v0 API (POST /api/v0/code-exec, GET /health/, GET /metrics).

Options:
  --config FILE        YAML configuration (default: $CODEJAIL_SERVICE_CFG if set,
                       else the embedded default; see --print-default-config)
  --bind HOST:PORT     listen address (default 127.0.0.1:8550)
  --workers N          jail worker processes (default 4)
  --max-requests N     executions before a worker is replaced (default 1000; 0 never)
  --worker-binary PATH codejail-worker to exec (default: next to this binary, else
                       ../lib/codejail-service/ relative to it)
  --print-default-config
                       print the embedded default configuration and exit
  -h, --help           show this help and exit
  --version            show the version and exit

Signals: SIGTERM/SIGINT drain in-flight requests, then exit; SIGHUP re-reads
the configuration file for workers started from then on.
)";

[[noreturn]] void usage_error(const std::string& message) {
  std::cerr << "codejail-service: " << message << "\n(try --help)\n";
  std::exit(2);
}

long number(const std::string& text, long lo, long hi, const std::string& flag) {
  char* end = nullptr;
  long v = std::strtol(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || v < lo || v > hi) usage_error("bad value for " + flag);
  return v;
}

// Next to this binary (the build tree), else ../lib/codejail-service/
// relative to it (the installed layout: /usr/bin and /usr/lib/codejail-service).
std::string default_worker_binary() {
  char self[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) return "codejail-worker";
  std::string path(self, static_cast<std::size_t>(n));
  std::string dir = path.substr(0, path.rfind('/') + 1);
  for (const std::string& candidate :
       {dir + "codejail-worker", dir + "../lib/codejail-service/codejail-worker"}) {
    char resolved[PATH_MAX];
    if (realpath(candidate.c_str(), resolved) != nullptr && access(resolved, X_OK) == 0) {
      return resolved;
    }
  }
  return dir + "codejail-worker";  // reported as missing by main()
}

struct CommandLine {
  std::string config_path;  // "" for the embedded default
  cjs::server::ConfigOverrides overrides;
  std::string worker_binary = default_worker_binary();
};

// Exits for --help, --version, --print-default-config and usage errors.
CommandLine parse_command_line(int argc, char** argv) {
  CommandLine line;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage_error(arg + " needs a value");
      return argv[++i];
    };
    if (arg == "-h" || arg == "--help") {
      std::cout << kUsage;
      std::exit(0);
    } else if (arg == "--version") {
      std::cout << "codejail-service " << CJS_VERSION << "\n";
      std::exit(0);
    } else if (arg == "--print-default-config") {
      std::cout << cjs::default_config_yaml();
      std::exit(0);
    } else if (arg == "--config") {
      line.config_path = value();
    } else if (arg == "--bind") {
      line.overrides.bind = value();
    } else if (arg == "--workers") {
      line.overrides.workers = static_cast<int>(number(value(), 1, 256, arg));
    } else if (arg == "--max-requests") {
      line.overrides.max_requests = static_cast<int>(number(value(), 0, INT_MAX, arg));
    } else if (arg == "--worker-binary") {
      line.worker_binary = value();
    } else {
      usage_error("unknown option " + arg);
    }
  }
  if (line.config_path.empty()) {
    if (const char* env = std::getenv("CODEJAIL_SERVICE_CFG"); env != nullptr && *env) {
      line.config_path = env;
    }
  }
  return line;
}

}  // namespace

int main(int argc, char** argv) {
  CommandLine line = parse_command_line(argc, argv);
  std::vector<std::string> warnings;
  std::optional<cjs::server::ServiceConfig> config;
  try {
    // Command-line flags win over the file (ConfigOverrides).
    config = cjs::server::ServiceConfig::load(line.config_path, line.overrides, warnings);
  } catch (const cjs::ConfigError& e) {
    std::cerr << "codejail-service: configuration error: " << e.what() << "\n";
    return 2;
  }
  const cjs::Config& settings = config->settings();
  for (const auto& w : warnings) cjs::log::warning(w, {{"config", settings.source}});
  if (access(line.worker_binary.c_str(), X_OK) != 0) {
    std::cerr << "codejail-service: cannot execute the worker binary " << line.worker_binary
              << "\n";
    return 2;
  }
  cjs::log::info("starting",
                 {{"version", CJS_VERSION},
                  {"config", settings.source},
                  {"bind", settings.bind},
                  {"workers", cjs::log::number(static_cast<long long>(settings.workers))}});
  cjs::server::SupervisorOptions options;
  options.worker_binary = std::move(line.worker_binary);
  return cjs::server::run_supervisor(std::move(*config), std::move(options));
}
