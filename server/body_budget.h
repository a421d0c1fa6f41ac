// The request-body bytes all of the acceptor's connections hold at once
// (max_buffered_body_bytes). A session reserves a body's Content-Length (or,
// chunked, what it has read so far) before reading it, and holds the
// reservation until its answer; a body that does not fit is refused with 503
// instead of growing the acceptor without bound. Single-threaded.
#pragma once

#include <algorithm>
#include <cstddef>

namespace cjs::server {

class BodyBudget {
 public:
  explicit BodyBudget(std::size_t limit) : limit_(limit) {}
  BodyBudget(const BodyBudget&) = delete;
  BodyBudget& operator=(const BodyBudget&) = delete;

  // Takes `bytes` from the budget; false (nothing taken) when they don't fit.
  bool try_reserve(std::size_t bytes) {
    if (bytes > limit_ - used_) return false;
    used_ += bytes;
    return true;
  }
  void release(std::size_t bytes) { used_ -= std::min(bytes, used_); }

  std::size_t used() const { return used_; }
  std::size_t limit() const { return limit_; }

 private:
  std::size_t limit_;
  std::size_t used_ = 0;
};

}  // namespace cjs::server
