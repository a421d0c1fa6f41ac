// One execution's sandbox directory on the host:
//   <sandbox_root>/codejail-XXXXXXXX/   read-only for the code
//     jailed_code                       the wrapper
//     python_lib.zip                    when uploaded
//     tmp/                              the code's scratch space (TMPDIR)
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>

namespace cjs::jail {

// Who owns tmp/ (the sandbox's identity); unset keeps our own.
struct Ownership {
  uid_t uid;
  gid_t gid;
};

// True for a plain file name we are willing to create: non-empty, no '/',
// no NUL, not "." or "..", at most 255 bytes.
bool is_safe_file_name(std::string_view name);

class SandboxDir {
 public:
  // Creates a fresh, uniquely named directory under `root` (which must exist
  // and be absolute), exclusively flock'ed until this object is destroyed.
  // Throws std::system_error on failure.
  static SandboxDir create(const std::string& root, std::optional<Ownership> tmp_owner);

  SandboxDir(SandboxDir&& other) noexcept;
  SandboxDir& operator=(SandboxDir&&) = delete;
  SandboxDir(const SandboxDir&) = delete;
  ~SandboxDir();

  // "codejail-XXXXXXXX": 8 characters from [a-z0-9_], as the reference's.
  const std::string& name() const { return name_; }
  // Where it is on the host.
  const std::string& host_path() const { return host_path_; }

  // Creates `file_name` (is_safe_file_name) with `content`, mode 0644; never
  // follows or replaces an existing entry. Throws on failure.
  void create_file(std::string_view file_name, std::string_view content);

  // Seals the directory itself against writes by anyone but root (mode 0555).
  void seal();
  // Undoes seal(), for files that come after the interpreter started (a
  // warm start: it has not read its stdin, so no course code runs yet).
  void unseal();
  // Sets the access and modification times of the directory and of every
  // entry in it to now (the request's time, not when the dir was prepared):
  // a prestarted sandbox's timestamps would tell the code how long its
  // worker had been idle.
  void stamp_now();

  // Removes the tree (never following anything inside). Idempotent. Returns
  // false and fills `error` if something could not be removed.
  bool remove(std::string& error);

 private:
  SandboxDir(int root_fd, std::string name, std::string host_path);

  int root_fd_ = -1;  // the sandbox root, held open so removal never re-resolves it
  int lock_fd_ = -1;  // the dir itself, flock'ed while the run lives (stale_cleanup.h)
  std::string name_;
  std::string host_path_;
  bool removed_ = false;
};

// A name for a new sandbox dir: "codejail-" + 8 random [a-z0-9_] characters.
std::string random_sandbox_name();

}  // namespace cjs::jail
