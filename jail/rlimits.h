// Resource limits of one execution (api.md section 5), applied in the child.
#pragma once

#include <sys/resource.h>

#include <array>
#include <cstddef>

#include "common/limits.h"

namespace cjs::jail {

inline constexpr rlim_t kSandboxStackBytes = 8u << 20;

struct RlimitSetting {
  int resource;
  rlimit value;
};

// The rlimits to apply for `limits`, computed before fork so the child only
// makes system calls. CPU soft n / hard n+1; AS, NPROC when non-zero; FSIZE
// always (0 = no bytes); CORE always 0 (no core files in the sandbox);
// NOFILE and STACK always (fixed).
struct RlimitPlan {
  std::array<RlimitSetting, 8> settings{};
  std::size_t count = 0;
};

RlimitPlan plan_rlimits(const Limits& limits);

// Applies the plan. Async-signal-safe. Returns 0 or the failing errno, with
// the failing resource in *failed_resource.
int apply_rlimits(const RlimitPlan& plan, int* failed_resource);

}  // namespace cjs::jail
