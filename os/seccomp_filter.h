// An owned libseccomp filter context. No policy here: jail/seccomp.h builds
// the sandbox's filter, os/egress_lock.h the service's socket filter.
#pragma once

#include <seccomp.h>

#include <cstdint>

namespace cjs::os {

class SeccompFilter {
 public:
  // seccomp_init(default_action); check it with operator bool.
  explicit SeccompFilter(std::uint32_t default_action) : ctx_(seccomp_init(default_action)) {}
  ~SeccompFilter() {
    if (ctx_ != nullptr) seccomp_release(ctx_);
  }
  SeccompFilter(const SeccompFilter&) = delete;
  SeccompFilter& operator=(const SeccompFilter&) = delete;

  explicit operator bool() const { return ctx_ != nullptr; }
  scmp_filter_ctx get() const { return ctx_; }

  // libseccomp's result: 0, or a negated errno.
  int add(std::uint32_t action, int nr) { return seccomp_rule_add(ctx_, action, nr, 0); }
  int add(std::uint32_t action, int nr, scmp_arg_cmp cmp) {
    return seccomp_rule_add(ctx_, action, nr, 1, cmp);
  }
  // Both comparisons must hold.
  int add(std::uint32_t action, int nr, scmp_arg_cmp first, scmp_arg_cmp second) {
    return seccomp_rule_add(ctx_, action, nr, 2, first, second);
  }
  // Loads the filter into the calling thread (no_new_privs must be set).
  int load() { return seccomp_load(ctx_); }

 private:
  scmp_filter_ctx ctx_;
};

}  // namespace cjs::os
