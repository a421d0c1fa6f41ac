// Helpers shared by the integration suite (test/integration, linked against
// cjs_jail) and the attack suite (test/attacks, linked against
// cjs_jail_sabotageable). They depend on cjs_common only, never on jail/, so
// that both suites can link them whichever jail library they use.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/json_value.h"
#include "common/payload.h"

namespace cjs::test {

// ------------------------------------------------------------- payloads ---

// The payload JSON text for `code` (any bytes, rendered as a JSON string),
// `globals_json` (JSON text of an object, inserted verbatim) and the optional
// keys (python_path only when non-empty).
std::string payload_json(std::string_view code, std::string_view globals_json,
                         const std::vector<std::string>& python_path = {},
                         const std::optional<std::string>& limit_overrides_context = {});

// check_payload(text, file_names), which must accept the payload (REQUIREd).
ExecPayload accepted_payload(const std::string& text, const std::vector<std::string>& file_names);

// --------------------------------------------------------------- bodies ---

// The body, parsed with cjs::json::parse (which must succeed on an object).
json::Object parse_body(const std::string& body);
// The body's emsg (which must be a string when present), or nothing.
std::optional<std::string> emsg_of(const std::string& body);

// Replaces every "/tmp/codejail-" + 8 characters of [a-z0-9_] with
// "/tmp/codejail-XXXXXXXX" (as in api.md 3.2).
std::string normalize_sandbox_dir(std::string text);

// ZIP archive (stored, no compression) of (name, content) entries, as
// zipimport reads it.
std::string make_stored_zip(const std::vector<std::pair<std::string, std::string>>& entries);

// ----------------------------------------------------------- host files ---

// A scratch directory under /tmp, removed (rm -rf) on destruction. `mode` is
// applied exactly (e.g. 0755 so that the sandbox user can traverse it).
struct ScratchDir {
  std::string path;
  explicit ScratchDir(mode_t mode = 0700);
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  std::vector<std::string> entries() const;  // names inside, sorted
  // Entries a run may leave: everything except the executor's shared mount
  // staging dir (.codejail-root), which persists by design.
  std::vector<std::string> leftovers() const;
};

// Names in `dir` starting with `prefix`, sorted.
std::vector<std::string> list_dir(const std::string& dir, std::string_view prefix = "");

// The whole content of a (small) file, or "" when it cannot be read.
std::string read_file(const std::string& path);
// lstat() succeeds: dangling symlinks exist too.
bool path_exists(const std::string& path);

// A short random [a-z0-9] string, for markers.
std::string random_token(std::size_t length);

// ------------------------------------------------------------ processes ---

// Pids of all live processes (the numeric entries of /proc).
std::vector<pid_t> all_pids();
// Pids of live processes whose /proc/PID/comm equals `comm`.
std::vector<pid_t> processes_named(std::string_view comm);
// SIGKILLs each pid: what a buggy run left behind, so one failure does not
// cascade into the next tests.
void kill_all(const std::vector<pid_t>& pids);

// What wait_child_code() returns for a child that a signal ended: this plus
// the signal number (above any exit status).
inline constexpr int kChildSignaled = 1000;
// Waits for the forked child `pid` (retrying on EINTR): its exit status,
// kChildSignaled + signal, or -1 when it cannot be waited for.
int wait_child_code(pid_t pid);

// Runs `produce` in a forked child and returns the text it produced, for
// work that must not happen in this process (under an address-space cap;
// next to hogs that a runner, which kills its process's children, would
// take with it). "" when `produce` threw or the child died first.
std::string text_of_forked_child(const std::function<std::string()>& produce);

// The few texts CPython words differently between versions (Debian 12 has
// 3.11, Debian 13 has 3.13), for the default config's sandbox interpreter.
// Its minor version (3.<minor>); 0 when it cannot be run.
int sandbox_python_minor();
// What a traceback prints under the "exec(code, g_dict)" line, as an emsg
// spells it (a backslash and n for the newline): 3.13 marks the call with
// carets, 3.11 prints nothing.
std::string exec_call_carets();
// The exception compile() raises for a NUL in the source: "ValueError"
// before 3.12, "SyntaxError" since.
std::string null_bytes_exception();

}  // namespace cjs::test
