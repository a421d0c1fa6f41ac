// The code-exec request payload (api.md 2.1) and checks 4-8 of api.md 2.2.
//
// Shared by the HTTP service and codejail-run so both refuse exactly the same
// payloads with exactly the same messages.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/json_value.h"

namespace cjs {

// Check 6 bounds python_path (api.md 2.2): the reference has no limit, but
// each entry becomes a line of the sandbox's code. edxapp sends one.
inline constexpr std::size_t kMaxPythonPathEntries = 1000;
inline constexpr const char* kTooManyPythonPathEntriesMessage =
    "At most 1000 entries are allowed in 'python_path'";

// A validated payload, ready to execute.
struct ExecPayload {
  std::string code;                      // WTF-8
  json::Value globals;                   // always an object
  std::vector<std::string> python_path;  // each entry exactly "python_lib.zip"
  std::optional<std::string> limit_overrides_context;
  std::optional<std::string> slug;
};

// A refusal: HTTP status, the {"error": ...} message, and the reference's
// telemetry value for codejail.exec.status (api.md section 8).
struct PayloadError {
  int http_status = 400;
  std::string message;
  std::string telemetry_status;  // e.g. "invalid.payload.bad_json"
  std::string log_line;          // the reference's log line, may be empty
};

struct PayloadCheck {
  std::optional<ExecPayload> payload;  // set when every check passed
  PayloadError error;                  // meaningful otherwise
};

// Runs checks 4-8 in order. `payload_text` is the decoded `payload` form
// field; `uploaded_file_names` are the names of the uploaded files (the
// multipart field names), in upload order.
PayloadCheck check_payload(std::string_view payload_text,
                           const std::vector<std::string>& uploaded_file_names);

}  // namespace cjs
