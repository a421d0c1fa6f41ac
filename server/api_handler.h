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
#include "server/metrics.h"
#include "server/worker_pool.h"

namespace cjs::server {

struct ApiRequest {
  std::string method;        // "POST", "GET", ...
  std::string target;        // path and query as sent
  std::string content_type;  // the full Content-Type header value ("" if absent)
  std::string body;
  std::string request_id;    // for logs
  std::size_t body_bytes = 0;  // for logs (the body itself is released early)
};

struct ApiResponse {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
};

// What the acceptor knows about the service's state.
struct ServiceState {
  bool probes_passed = false;
  bool draining = false;
};

class ApiHandler {
 public:
  ApiHandler(const Config& config, const ServiceState& state, WorkerPool& pool, Metrics& metrics);

  // Calls `respond` exactly once (possibly after this returns).
  void handle(ApiRequest request, std::function<void(ApiResponse)> respond);

 private:
  void code_exec(ApiRequest request, std::function<void(ApiResponse)> respond);

  const Config& config_;
  const ServiceState& state_;
  WorkerPool& pool_;
  Metrics& metrics_;
  std::uint64_t next_id_ = 1;
};

}  // namespace cjs::server
