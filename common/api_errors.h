// The API's refusals that do not depend on the payload (api.md 2.2, checks
// 1-3) and the error body spelling shared by every refusal.
#pragma once

#include <string>
#include <string_view>

namespace cjs {

inline constexpr std::string_view kNotEnabledMessage = "Codejail service not enabled";
inline constexpr std::string_view kNotConfiguredMessage =
    "Codejail service is not correctly configured";
inline constexpr std::string_view kMissingPayloadMessage =
    "Missing 'payload' parameter in POST body";

// {"error":"<message>"}, compact like every body the reference's REST
// framework renders (only /health/ has the spaced spelling).
std::string error_body(std::string_view message);

}  // namespace cjs
