#include "server/service_config.h"

#include <utility>

namespace cjs::server {

ServiceConfig ServiceConfig::load(std::string path, ConfigOverrides overrides,
                                  std::vector<std::string>& warnings) {
  ServiceConfig loaded;
  if (path.empty()) {
    loaded.worker_text_ = std::string(default_config_yaml());
    loaded.settings_ = default_config();
  } else {
    loaded.worker_text_ = read_config_file(path);
    loaded.settings_ = parse_config(loaded.worker_text_, path, warnings);
    // An empty file parses the same as a comment.
    if (loaded.worker_text_.empty()) loaded.worker_text_ = "# (empty configuration file)\n";
  }
  if (overrides.bind) {
    if (!is_valid_bind(*overrides.bind)) {
      throw ConfigError("--bind: " + std::string(kBindExpected) + ", got '" + *overrides.bind +
                        "'");
    }
    loaded.settings_.bind = *overrides.bind;
  }
  if (overrides.workers) loaded.settings_.workers = *overrides.workers;
  if (overrides.max_requests) loaded.settings_.max_requests = *overrides.max_requests;
  loaded.path_ = std::move(path);
  loaded.overrides_ = std::move(overrides);
  return loaded;
}

std::vector<std::string> ServiceConfig::restart_only_changes(const ServiceConfig& next) const {
  const Config& a = settings_;
  const Config& b = next.settings_;
  std::vector<std::string> changed;
  const auto check = [&changed](bool differs, const char* key) {
    if (differs) changed.emplace_back(key);
  };
  // The supervisor's: the listener is open and the slots are running.
  check(a.bind != b.bind, "bind");
  check(a.workers != b.workers, "workers");
  // The acceptor's, fixed when it was forked.
  check(a.enabled != b.enabled, "CODEJAIL_ENABLED");
  check(a.queue_limit != b.queue_limit, "queue_limit");
  check(a.queue_timeout_seconds != b.queue_timeout_seconds, "queue_timeout_seconds");
  check(a.max_connections != b.max_connections, "max_connections");
  check(a.max_body_bytes != b.max_body_bytes, "max_body_bytes");
  check(a.max_connections_per_ip != b.max_connections_per_ip, "max_connections_per_ip");
  check(a.max_buffered_body_bytes != b.max_buffered_body_bytes, "max_buffered_body_bytes");
  check(a.header_timeout_seconds != b.header_timeout_seconds, "header_timeout_seconds");
  check(a.log_code != b.log_code, "log_code");
  return changed;
}

}  // namespace cjs::server
