// A warning that can recur at a high rate (accept errors, the connection
// cap): at most one line per interval, carrying the number of occurrences
// suppressed since the previous line.
#pragma once

#include <chrono>
#include <cstdint>

#include "common/log.h"

namespace cjs::server {

class RateLimitedWarning {
 public:
  RateLimitedWarning(const char* message, std::chrono::steady_clock::duration interval)
      : message_(message), interval_(interval) {}

  void operator()(log::Fields fields) {
    const auto now = std::chrono::steady_clock::now();
    if (now < next_) {
      ++suppressed_;
      return;
    }
    fields.emplace_back("suppressed", log::number(static_cast<long long>(suppressed_)));
    log::warning(message_, fields);
    suppressed_ = 0;
    next_ = now + interval_;
  }

 private:
  const char* message_;
  std::chrono::steady_clock::duration interval_;
  std::chrono::steady_clock::time_point next_{};
  std::uint64_t suppressed_ = 0;
};

}  // namespace cjs::server
