#include "server/api_response.h"

#include "common/api_errors.h"

namespace cjs::server {

ApiResponse json_response(int status, std::string body) {
  ApiResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

ApiResponse detail_response(int status, std::string_view message) {
  return json_response(status, detail_body(message));
}

ApiResponse retry_later_response(std::string_view message) {
  ApiResponse r = json_response(503, error_body(message));
  r.headers.emplace_back("Retry-After", "1");
  return r;
}

ApiResponse out_of_memory_response() {
  return retry_later_response("Codejail service is out of memory; retry later");
}

}  // namespace cjs::server
