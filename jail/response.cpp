#include "jail/response.h"

#include <unordered_map>
#include <unordered_set>

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
  // dict.update(), rendered member by member rather than merged into a copy
  // of the input tree (which can be as large as the request); an index keeps
  // this linear for globals with many keys.
  const json::Object& input = input_globals.as_object();
  std::unordered_map<std::string_view, const json::Value*> replaced;
  replaced.reserve(sandbox_globals.size());
  for (const auto& member : sandbox_globals) replaced.emplace(member.first, &member.second);
  std::string body = "{\"globals_dict\":{";
  bool first = true;
  auto append = [&](const std::string& key, const json::Value& value) {
    if (!first) body += ',';
    first = false;
    body += json::quote_api(key);
    body += ':';
    body += json::render_api(value);
  };
  std::unordered_set<std::string_view> in_input;
  in_input.reserve(input.size());
  for (const auto& [key, value] : input) {
    in_input.insert(key);
    auto it = replaced.find(key);
    append(key, it != replaced.end() ? *it->second : value);
  }
  for (const auto& [key, value] : sandbox_globals) {
    if (!in_input.contains(key)) append(key, value);
  }
  return body + "}}";
}

std::optional<json::Object> parse_sandbox_globals(std::string_view stdout_data,
                                                  std::size_t max_values) {
  json::ParseResult parsed = json::parse(stdout_data, json::ParseBudget{max_values});
  if (!parsed || !parsed.value->is_object()) return std::nullopt;
  return std::move(parsed.value->as_object());
}

}  // namespace cjs::jail
