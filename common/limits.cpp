// Per-context limit resolution (api.md section 5).
#include "common/limits.h"

#include <algorithm>

namespace cjs {

Limits resolve_limits(const Limits& defaults, const LimitOverrides& overrides,
                      const std::optional<std::string>& context) {
  Limits limits = defaults;
  if (!context) return limits;
  const auto it = overrides.find(*context);
  if (it == overrides.end()) return limits;
  // PROXY has no override: the reference forbids overriding it per context.
  const LimitOverride& o = it->second;
  if (o.cpu_seconds) limits.cpu_seconds = *o.cpu_seconds;
  if (o.realtime_seconds) limits.realtime_seconds = *o.realtime_seconds;
  if (o.vmem_bytes) limits.vmem_bytes = *o.vmem_bytes;
  if (o.fsize_bytes) limits.fsize_bytes = *o.fsize_bytes;
  if (o.nproc) limits.nproc = *o.nproc;
  return limits;
}

double longest_realtime_seconds(const Limits& defaults, const LimitOverrides& overrides) {
  auto effective = [](double realtime) {
    return realtime > 0 ? realtime : kRealtimeCeilingSeconds;
  };
  double longest = effective(defaults.realtime_seconds);
  for (const auto& [context, o] : overrides) {
    if (o.realtime_seconds) longest = std::max(longest, effective(*o.realtime_seconds));
  }
  return longest;
}

}  // namespace cjs
