// An HTTP answer independent of the transport, and the builders of the
// answers that more than one place gives: both the ApiHandler and the
// HttpSession (before a request reaches the handler) answer errors.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cjs::server {

struct ApiResponse {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
};

// `body` as application/json.
ApiResponse json_response(int status, std::string body);

// {"detail": message}: the REST framework's errors and the transport's.
ApiResponse detail_response(int status, std::string_view message);

// 503 {"error": message} with Retry-After: 1: the service is overloaded,
// not broken, and the next request may well succeed.
ApiResponse retry_later_response(std::string_view message);

// The 503 for a request that ran out of memory (it overloaded the service
// by itself), wherever that happened (api.md 9).
ApiResponse out_of_memory_response();

}  // namespace cjs::server
