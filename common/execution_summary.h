// What one execution came to, as one value: the executor produces it, the
// worker protocol carries it whole (common/worker_protocol.h), and the
// acceptor's log line and codejail-run read it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "common/limits.h"

namespace cjs {

inline constexpr const char* kExecutedSuccess = "executed.success";
inline constexpr const char* kExecutedError = "executed.error";

// The confinement layers a run really applied (bits of
// ExecutionSummary::applied_layers), as the interpreter child reports them.
enum AppliedLayer : std::uint32_t {
  kLayerUserNs = 1u << 0,
  kLayerPidNs = 1u << 1,
  kLayerMountNs = 1u << 2,
  kLayerNetNs = 1u << 3,
  kLayerIpcNs = 1u << 4,
  kLayerUtsNs = 1u << 5,
  kLayerCgroupNs = 1u << 6,
  kLayerMountView = 1u << 7,
  kLayerUid = 1u << 8,
  kLayerCapabilities = 1u << 9,  // bounding/ambient/effective sets empty, no_new_privs
  kLayerRlimits = 1u << 10,
  kLayerLandlock = 1u << 11,
  kLayerSeccomp = 1u << 12,
  kLayerAppArmor = 1u << 13,
  kLayerExecLock = 1u << 14,  // exec forbidden once the interpreter runs
};

// "pid-ns mount-ns ... seccomp": the names of the set bits, in bit order;
// "none" when there are none.
std::string applied_layer_names(std::uint32_t layers);

struct ExecutionSummary {
  std::string body;                   // the HTTP 200 body
  std::string telemetry_status;       // kExecutedSuccess / kExecutedError (codejail.exec.status)
  std::optional<int> sandbox_status;  // exit code / -signal, when the interpreter ran
  std::string failure;                // machinery failure details, for logs only
  Limits limits;                      // the effective limits of the run
  double wall_seconds = 0;
  std::size_t stdout_bytes = 0, stderr_bytes = 0;  // what the code wrote, kept or not
  bool stdout_truncated = false, stderr_truncated = false;
  bool hit_memory_limit = false;     // the run's cgroup memory cap OOM-killed something
  bool timed_out = false;            // REALTIME ended the run (status -9)
  bool cpu_limit_killed = false;     // the hard CPU limit of all its processes ended it (-9)
  std::uint32_t applied_layers = 0;  // AppliedLayer bits of this run
  int landlock_abi = 0;              // the Landlock ABI it used (0: none)
  bool warm_start = false;           // it ran in a sandbox started ahead of the request

  // No emsg: the code ran and its globals came back.
  bool success() const { return telemetry_status == kExecutedSuccess; }
};

}  // namespace cjs
