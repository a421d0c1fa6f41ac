// The integration and attack suites run twice under ctest: cold, and warm
// (CJS_TEST_WARM_START=1), where every execution runs in a sandbox started
// ahead of it, as a worker with CODEJAIL_SERVICE.warm_start does.
#pragma once

#include <catch2/catch.hpp>

#include <cstdlib>
#include <string_view>
#include <vector>

#include "common/config.h"
#include "common/execution_summary.h"
#include "common/limits.h"
#include "common/payload.h"
#include "common/upload.h"

namespace cjs::test {

// Whether this test process runs executions warm.
inline bool warm_start_mode() {
  const char* value = std::getenv("CJS_TEST_WARM_START");
  return value != nullptr && std::string_view(value) == "1";
}

// The configuration a suite's executors get: warm start as the mode says.
inline Config in_test_mode(Config config) {
  config.warm_start = warm_start_mode();
  return config;
}

// With warm start configured, prestarts the sandbox `payload` asks for, as
// the worker does for the request it expects.
template <class Executor>
void prestart_in_mode(Executor& executor, const ExecPayload& payload) {
  const Config& config = executor.config();
  if (!config.warm_start) return;
  executor.prestart(payload.python_path, resolve_limits(config.limits, config.limit_overrides,
                                                        payload.limit_overrides_context));
}

// A run whose interpreter ran must have run in the prestarted sandbox: a
// silent cold fallback would hide the warm path's bugs. Not under sabotage
// (CJS_TEST_SABOTAGE_CONFINEMENT=1), where a deny test must fail for its
// attack's sake only; the confined warm pass checks this for every run.
inline void check_ran_in_mode(const Config& config, const ExecutionSummary& summary) {
  const char* sabotage = std::getenv("CJS_TEST_SABOTAGE_CONFINEMENT");
  if (sabotage != nullptr && std::string_view(sabotage) == "1") return;
  if (!config.warm_start || !summary.sandbox_status) return;
  INFO("a run in warm mode started cold: " << summary.failure);
  CHECK(summary.warm_start);
}

// executor.execute(payload, files) in this process's mode.
template <class Executor>
ExecutionSummary execute_in_mode(Executor& executor, const ExecPayload& payload,
                                 const std::vector<UploadedFile>& files) {
  prestart_in_mode(executor, payload);
  ExecutionSummary summary = executor.execute(payload, files);
  check_ran_in_mode(executor.config(), summary);
  return summary;
}

}  // namespace cjs::test
