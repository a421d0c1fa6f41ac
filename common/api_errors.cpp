#include "common/api_errors.h"

#include "common/json_render.h"

namespace cjs {

std::string error_body(std::string_view message) {
  return "{\"error\":" + json::quote_api(message) + "}";
}

}  // namespace cjs
