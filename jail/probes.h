// Startup confinement probes (api.md section 6): real executions through the
// real path (prestarted when warm start is on, as requests will be), plus a
// check that this process itself cannot connect out. Their result gates
// execution (check 2 of api.md 2.2) and health.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "jail/executor.h"

namespace cjs::jail {

// Time limits of the probe runs (the configured VMEM, FSIZE and NPROC apply).
inline constexpr std::int64_t kProbeCpuSeconds = 5;
inline constexpr double kProbeRealtimeSeconds = 10;

struct ProbeResult {
  std::string name;  // functionality, disk, exec, network, egress, apparmor
  bool passed = false;
  std::string reason;                // why it failed (empty when passed)
  std::uint32_t applied_layers = 0;  // what its run applied (AppliedLayer bits; 0: no run)
  int landlock_abi = 0;              // the Landlock ABI its run used
  bool warm_start = false;           // its run was prestarted (warm start on)
};

struct ProbeReport {
  std::vector<ProbeResult> probes;
  bool all_passed() const;
};

// Runs every probe, logging "Startup check '<name>' passed" or
// "Startup check '<name>' failed with: <reason>" for each. The egress probe
// expects restrict_own_tcp_connect() (os/egress_lock.h) to have been applied to
// this process: it opens a listener on 127.0.0.1 and connects to it, which
// must be refused; it never contacts any other address.
ProbeReport run_startup_probes(Executor& executor);

}  // namespace cjs::jail
