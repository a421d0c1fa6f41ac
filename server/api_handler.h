// The routes and the exact API of api.md sections 1-3, independent of the
// HTTP transport: a parsed request in, a response out (maybe later, once a
// worker answered).
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "common/config.h"
#include "server/api_response.h"
#include "server/execution_health.h"
#include "server/metrics.h"
#include "server/worker_pool.h"

namespace cjs::server {

struct ApiRequest {
  std::string method;        // "POST", "GET", ...
  std::string target;        // path and query as sent
  std::string content_type;  // the full Content-Type header value ("" if absent)
  std::string body;          // released once parsed
  std::string request_id;    // for logs
  // Set by the transport: true once the client closed its connection, so
  // that a request still waiting for a worker is not run (WorkerPool).
  ClientGone client_gone{};
};

// What the acceptor knows about the service's state.
struct ServiceState {
  bool probes_passed = false;
  bool draining = false;
};

class ApiHandler {
 public:
  using Respond = std::function<void(ApiResponse)>;

  ApiHandler(const Config& config, const ServiceState& state, WorkerPool& pool, Metrics& metrics);

  // Calls `respond` exactly once (possibly after this returns); running out
  // of memory answers 503. Only if even that answer cannot be built (or
  // `respond` throws) is it dropped: a session then closes its connection.
  void handle(ApiRequest request, Respond respond);

 private:
  void route(ApiRequest request, const Respond& respond);
  void code_exec(ApiRequest request, const Respond& respond);
  void record_health(const PoolOutcome& outcome);

  const Config& config_;
  const ServiceState& state_;
  WorkerPool& pool_;
  Metrics& metrics_;
  std::uint64_t next_id_ = 1;
  ExecutionHealth health_;  // /health/ turns 503 while executions keep failing
};

}  // namespace cjs::server
