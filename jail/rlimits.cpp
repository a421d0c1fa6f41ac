#include "jail/rlimits.h"

#include <cerrno>

#include "jail/seccomp.h"

namespace cjs::jail {
namespace {

void add(RlimitPlan& plan, int resource, rlim_t soft, rlim_t hard) {
  plan.settings[plan.count++] = RlimitSetting{resource, rlimit{soft, hard}};
}

}  // namespace

RlimitPlan plan_rlimits(const Limits& limits) {
  RlimitPlan plan;
  if (limits.cpu_seconds > 0) {
    auto cpu = static_cast<rlim_t>(limits.cpu_seconds);
    add(plan, RLIMIT_CPU, cpu, cpu + 1);  // SIGXCPU (-24) at n, SIGKILL at n+1
  }
  if (limits.vmem_bytes > 0) {
    auto vmem = static_cast<rlim_t>(limits.vmem_bytes);
    add(plan, RLIMIT_AS, vmem, vmem);
  }
  if (limits.nproc > 0) {
    auto nproc = static_cast<rlim_t>(limits.nproc);
    add(plan, RLIMIT_NPROC, nproc, nproc);
  }
  auto fsize = static_cast<rlim_t>(limits.fsize_bytes);
  add(plan, RLIMIT_FSIZE, fsize, fsize);
  add(plan, RLIMIT_CORE, 0, 0);
  // Not configurable: the exec-once scheme (seccomp.h) relies on this bound.
  add(plan, RLIMIT_NOFILE, kSandboxMaxOpenFiles, kSandboxMaxOpenFiles);
  // A fixed hard stack limit also pins the address-space layout.
  add(plan, RLIMIT_STACK, kSandboxStackBytes, kSandboxStackBytes);
  return plan;
}

int apply_rlimits(const RlimitPlan& plan, int* failed_resource) {
  for (std::size_t i = 0; i < plan.count; ++i) {
    const RlimitSetting& s = plan.settings[i];
    if (setrlimit(s.resource, &s.value) != 0) {
      if (failed_resource != nullptr) *failed_resource = s.resource;
      return errno;
    }
  }
  return 0;
}

}  // namespace cjs::jail
