// One execution, end to end: validated payload in, API response body out.
//
//   payload + files -> sandbox dir -> confined interpreter -> (status,
//   stdout, stderr) -> {"globals_dict": ..., "emsg"?: ...}
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "common/config.h"
#include "common/payload.h"
#include "jail/process_runner.h"

namespace cjs::jail {

struct UploadedFile {
  std::string name;  // the multipart field name (api.md 2: the file's name)
  std::string content;
};

// Everything a caller needs to answer and to log one execution.
struct ExecutionReport {
  std::string body;              // the HTTP 200 body
  bool success = false;          // no emsg
  std::string telemetry_status;  // "executed.success" / "executed.error"
  std::optional<int> sandbox_status;  // exit code / -signal, when it ran
  std::string failure;           // machinery failure details, for logs only
  Limits limits;                 // effective limits used
  double wall_seconds = 0;
  std::size_t stdout_bytes = 0, stderr_bytes = 0;
  bool stdout_truncated = false, stderr_truncated = false;
};

class Executor {
 public:
  // Resolves the sandbox identity. Throws ConfigError when the service runs
  // as root and CODE_JAIL.user does not exist.
  explicit Executor(Config config);

  ExecutionReport execute(const ExecPayload& payload, const std::vector<UploadedFile>& files);

  const Config& config() const { return config_; }

 private:
  Config config_;
  std::optional<uid_t> sandbox_uid_;
  std::optional<gid_t> sandbox_gid_;
};

}  // namespace cjs::jail
