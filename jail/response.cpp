#include "jail/response.h"

#include <unordered_map>
#include <vector>

#include "common/json_parse.h"
#include "common/json_render.h"
#include "common/python_repr.h"

namespace cjs::jail {

std::string jailed_code_emsg(std::string_view stdout_data, std::string_view stderr_data,
                             int status) {
  return "Couldn't execute jailed code: stdout: " + python_bytes_repr(stdout_data) +
         ", stderr: " + python_bytes_repr(stderr_data) +
         " with status code: " + std::to_string(status);
}

std::string error_response(const json::Value& input_globals, std::string_view emsg) {
  return execution_error_body(input_globals, emsg);
}

std::string success_response(const json::Value& input_globals,
                             const json::Object& sandbox_globals) {
  // dict.update(): an index keeps this linear for globals with many keys.
  json::Object merged = input_globals.as_object();
  std::unordered_map<std::string_view, std::size_t> position;
  position.reserve(merged.size());
  for (std::size_t i = 0; i < merged.size(); ++i) position.emplace(merged[i].first, i);
  std::vector<const json::Member*> added;
  for (const auto& member : sandbox_globals) {
    auto it = position.find(member.first);
    if (it != position.end()) {
      merged[it->second].second = member.second;
    } else {
      added.push_back(&member);  // appended after the loop: `position` views `merged`
    }
  }
  for (const json::Member* member : added) merged.push_back(*member);
  return "{\"globals_dict\":" + json::render_api(json::Value(std::move(merged))) + "}";
}

std::optional<json::Object> parse_sandbox_globals(std::string_view stdout_data) {
  json::ParseResult parsed = json::parse(stdout_data);
  if (!parsed || !parsed.value->is_object()) return std::nullopt;
  return std::move(parsed.value->as_object());
}

}  // namespace cjs::jail
