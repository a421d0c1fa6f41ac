// The configuration the service runs on: one snapshot holding the YAML text
// the workers parse and what the supervisor and the acceptor use (that text
// parsed, with the command line's overrides applied). Both are made together
// by load() and never changed afterwards, so they cannot disagree; a SIGHUP
// reload makes a new snapshot and replaces the old one whole.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/config.h"

namespace cjs::server {

// What the command line sets; it wins over the file, also after a reload.
// Only settings of the supervisor and the acceptor: workers read the text.
struct ConfigOverrides {
  std::optional<std::string> bind;  // checked with is_valid_bind()
  std::optional<int> workers;
  std::optional<int> max_requests;
};

class ServiceConfig {
 public:
  // The file at `path` ("" for the embedded default), read with the size
  // cap, parsed, with `overrides` applied. Throws ConfigError; warnings
  // (unknown keys) are appended to `warnings`.
  static ServiceConfig load(std::string path, ConfigOverrides overrides,
                            std::vector<std::string>& warnings);

  // The same file read again, with the same overrides (SIGHUP).
  ServiceConfig reread(std::vector<std::string>& warnings) const {
    return load(path_, overrides_, warnings);
  }

  const Config& settings() const { return settings_; }
  // For the workers (a memfd): never empty, since workers refuse an empty
  // snapshot as a lost one; an empty file is sent as a comment.
  const std::string& worker_text() const { return worker_text_; }
  // "" when running on the embedded default.
  const std::string& path() const { return path_; }

  // The settings that only a restart changes (the listener, the number of
  // workers, the acceptor's), by key, that differ in `next`.
  std::vector<std::string> restart_only_changes(const ServiceConfig& next) const;

 private:
  ServiceConfig() = default;

  std::string path_;
  ConfigOverrides overrides_;
  std::string worker_text_;
  Config settings_;
};

}  // namespace cjs::server
