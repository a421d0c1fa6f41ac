// The API's refusals that do not depend on the payload (api.md 2.2, checks
// 1-3) and the error body spellings shared by every refusal.
#pragma once

#include <string>
#include <string_view>

#include "common/json_value.h"

namespace cjs {

inline constexpr std::string_view kNotEnabledMessage = "Codejail service not enabled";
inline constexpr std::string_view kNotConfiguredMessage =
    "Codejail service is not correctly configured";
inline constexpr std::string_view kMissingPayloadMessage =
    "Missing 'payload' parameter in POST body";

// The emsg of any failure of the execution machinery (api.md 3.2), e.g. a
// worker that died mid-request.
inline constexpr std::string_view kMachineryFailureEmsg =
    "Couldn't execute sandboxed code: See logs.";

// {"globals_dict": <input>, "emsg": <emsg>}: on any error of an execution
// the input globals are returned unchanged (api.md 3.1).
std::string execution_error_body(const json::Value& input_globals, std::string_view emsg);

// {"error":"<message>"}, compact like every body the reference's REST
// framework renders (only /health/ has the spaced spelling).
std::string error_body(std::string_view message);

// {"detail":"<message>"}: the REST framework's spelling for its own errors
// (404, 405, 415, a malformed body) and for the transport's (413, 431, ...).
std::string detail_body(std::string_view message);

}  // namespace cjs
