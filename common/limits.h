// Execution limits (api.md section 5) and their per-context resolution.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace cjs {

// Effective limits of one execution. 0 disables a limit, except fsize where 0
// means "no bytes may be written". The member defaults are the codejail
// library's, which a configuration file that omits CODE_JAIL.limits gets (as
// with the reference); the embedded default configuration sets production
// values (common/config.cpp).
struct Limits {
  std::int64_t cpu_seconds = 1;   // CPU: RLIMIT_CPU soft n, hard n+1
  double realtime_seconds = 1.0;  // REALTIME: wall clock, then kill all (-9)
  std::int64_t vmem_bytes = 0;    // VMEM: RLIMIT_AS
  std::int64_t fsize_bytes = 0;   // FSIZE: RLIMIT_FSIZE (always applied)
  std::int64_t nproc = 15;        // NPROC: processes + threads
  std::int64_t proxy = 0;         // PROXY: reference-only, accepted and ignored

  friend bool operator==(const Limits&, const Limits&) = default;
};

// A per-context overlay: only the keys the operator set.
struct LimitOverride {
  std::optional<std::int64_t> cpu_seconds;
  std::optional<double> realtime_seconds;
  std::optional<std::int64_t> vmem_bytes;
  std::optional<std::int64_t> fsize_bytes;
  std::optional<std::int64_t> nproc;
};

using LimitOverrides = std::map<std::string, LimitOverride, std::less<>>;

// Wall-clock ceiling of a run whose REALTIME limit is 0 ("disabled"): a
// worker must still come back eventually (docs/security.md).
inline constexpr double kRealtimeCeilingSeconds = 300;

// The longest wall-clock time a run may get under these limits: the largest
// REALTIME of the defaults and of every context, where 0 counts as the
// ceiling.
double longest_realtime_seconds(const Limits& defaults, const LimitOverrides& overrides);

// defaults overlaid by overrides[context]; an absent or unknown context
// yields the defaults.
Limits resolve_limits(const Limits& defaults, const LimitOverrides& overrides,
                      const std::optional<std::string>& context);

}  // namespace cjs
