// Whether the service may run code: every startup probe of the workers
// passed (the supervisor ran them), and this process's own egress is
// forbidden, which the acceptor proves for itself (api.md 6, "egress").
#pragma once

#include <string>
#include <vector>

#include "server/metrics.h"
#include "server/probe_outcome.h"

namespace cjs::server {

// Records every outcome, the acceptor's egress probe included, in `metrics`
// and logs the egress probe; `egress_failure` gets its reason when it fails.
bool check_startup_health(const std::vector<ProbeOutcome>& worker_probes, Metrics& metrics,
                          std::string& egress_failure);

}  // namespace cjs::server
