// Structured logging: one JSON object per line on stderr, e.g.
//   {"ts":"2026-11-22T10:00:00.123Z","level":"info","msg":"...","slug":"..."}
// so that journald, docker and Kubernetes collectors can parse it as is.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/json_value.h"

namespace cjs::log {

enum class Level { kDebug, kInfo, kWarning, kError };

using Fields = std::vector<std::pair<std::string, json::Value>>;

// Messages below this level are dropped (default: info).
void set_min_level(Level level);

void write(Level level, std::string_view message, const Fields& fields = {});

inline void debug(std::string_view m, const Fields& f = {}) { write(Level::kDebug, m, f); }
inline void info(std::string_view m, const Fields& f = {}) { write(Level::kInfo, m, f); }
inline void warning(std::string_view m, const Fields& f = {}) { write(Level::kWarning, m, f); }
inline void error(std::string_view m, const Fields& f = {}) { write(Level::kError, m, f); }

// Helpers for field values.
json::Value number(long long value);
json::Value number(double value);

// Text a request controls (a slug, a context name, entries or file names
// from the payload) as a log field or in a message: at most
// kMaxRequestTextBytes of it, cut at a UTF-8 boundary, then a marker
// "...(+N bytes)" saying how much was left out. A client cannot make a log
// line megabytes long.
inline constexpr std::size_t kMaxRequestTextBytes = 256;
std::string request_text(std::string_view text);

}  // namespace cjs::log
