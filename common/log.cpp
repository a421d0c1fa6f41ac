#include "common/log.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>

#include "common/json_render.h"
#include "common/python_repr.h"

namespace cjs::log {
namespace {

std::atomic<Level> g_min_level{Level::kInfo};

const char* level_name(Level level) {
  switch (level) {
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarning:
      return "warning";
    case Level::kError:
      return "error";
  }
  return "info";
}

std::string timestamp() {
  auto now = std::chrono::system_clock::now();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[80];  // roomy: -Wformat-truncation assumes any int width
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms % 1000));
  return buf;
}

}  // namespace

void set_min_level(Level level) { g_min_level = level; }

void write(Level level, std::string_view message, const Fields& fields) {
  if (level < g_min_level.load()) return;
  json::Object object;
  object.reserve(fields.size() + 4);
  object.emplace_back("ts", timestamp());
  object.emplace_back("level", level_name(level));
  object.emplace_back("pid", number(static_cast<long long>(getpid())));
  object.emplace_back("msg", std::string(message));
  for (const auto& [key, value] : fields) json::set_member(object, key, value);
  std::string line = json::render_api(json::Value(std::move(object)));
  line += '\n';
  // One write() per line keeps lines from different processes whole.
  (void)!::write(STDERR_FILENO, line.data(), line.size());
}

json::Value number(long long value) { return json::Number{std::to_string(value), true}; }

json::Value number(double value) { return json::Number{python_float_repr(value), false}; }

std::string request_text(std::string_view text) {
  if (text.size() <= kMaxRequestTextBytes) return std::string(text);
  std::size_t kept = kMaxRequestTextBytes;
  // Not inside a UTF-8 sequence: back off over continuation bytes.
  while (kept > 0 && (static_cast<unsigned char>(text[kept]) & 0xC0) == 0x80) --kept;
  return std::string(text.substr(0, kept)) + "...(+" + std::to_string(text.size() - kept) +
         " bytes)";
}

}  // namespace cjs::log
