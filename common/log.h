// Structured logging: one JSON object per line on stderr, e.g.
//   {"ts":"2026-11-22T10:00:00.123Z","level":"info","msg":"...","slug":"..."}
// so that journald, docker and Kubernetes collectors can parse it as is.
#pragma once

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

}  // namespace cjs::log
