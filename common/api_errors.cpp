#include "common/api_errors.h"

#include "common/json_render.h"

namespace cjs {

std::string execution_error_body(const json::Value& input_globals, std::string_view emsg) {
  // Rendered piecewise: copying a multi-MiB globals tree just to wrap it
  // would double the peak memory of a large request.
  return "{\"globals_dict\":" + json::render_api(input_globals) +
         ",\"emsg\":" + json::quote_api(emsg) + "}";
}

std::string error_body(std::string_view message) {
  return "{\"error\":" + json::quote_api(message) + "}";
}

std::string detail_body(std::string_view message) {
  return "{\"detail\":" + json::quote_api(message) + "}";
}

}  // namespace cjs
