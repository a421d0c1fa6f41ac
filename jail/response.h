// Turning one run's outcome into the API's 200 body (api.md section 3).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/api_errors.h"
#include "common/json_value.h"

namespace cjs::jail {

using cjs::kMachineryFailureEmsg;
inline constexpr std::string_view kCorruptedStdoutEmsg =
    "Sandboxed code produced corrupted stdout.";

// "Couldn't execute jailed code: stdout: b'...', stderr: b'...' with status code: N"
std::string jailed_code_emsg(std::string_view stdout_data, std::string_view stderr_data,
                             int status);

// {"globals_dict": <input>, "emsg": <emsg>}: on any error the input globals
// are returned unchanged.
std::string error_response(const json::Value& input_globals, std::string_view emsg);

// {"globals_dict": input.update(sandbox_globals)}: input keys keep their order
// (and values unless replaced); new keys follow in the sandbox's order.
std::string success_response(const json::Value& input_globals, const json::Object& sandbox_globals);

// What an execution's stdout means when the interpreter exited 0: the
// sandbox's globals, or nothing when it is not a JSON object ("corrupted")
// or holds more than `max_values` values and keys (json::ParseBudget).
std::optional<json::Object> parse_sandbox_globals(std::string_view stdout_data,
                                                  std::size_t max_values);

}  // namespace cjs::jail
