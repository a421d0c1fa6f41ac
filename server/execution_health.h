// Whether executions work: the startup probes prove the machinery once, but a
// host can break later (the sandbox disk full, a cgroup gone). After
// kUnhealthyAfter executions in a row fail for machinery reasons (the worker
// reports a failure, or dies mid-request), /health/ answers 503 so that an
// orchestrator replaces the instance; the next execution that works makes it
// 200 again. A failure of the user's code is the machinery working.
#pragma once

namespace cjs::server {

class ExecutionHealth {
 public:
  static constexpr int kUnhealthyAfter = 5;

  // One finished execution; returns true when this changed healthy().
  bool record(bool machinery_failed) {
    const bool before = healthy();
    consecutive_failures_ = machinery_failed ? consecutive_failures_ + 1 : 0;
    return healthy() != before;
  }

  bool healthy() const { return consecutive_failures_ < kUnhealthyAfter; }

 private:
  int consecutive_failures_ = 0;
};

}  // namespace cjs::server
