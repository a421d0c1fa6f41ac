// The startup probes (api.md section 6) through the real execution path: the
// worker binary's probe run (`codejail-worker --probes-json`) with a given
// configuration, at startup and for every SIGHUP reload.
#pragma once

#include <string>
#include <vector>

#include "server/probe_outcome.h"
#include "server/supervisor/worker_launcher.h"

namespace cjs::server {

// Never empty: a run that cannot start or report is one failed "startup" probe.
std::vector<ProbeOutcome> run_startup_probes(const WorkerLauncher& launcher,
                                             const std::string& config_text);

// The probe run's JSON report ({"probes": [{"name", "passed", "reason"}...]})
// as outcomes; an empty list when it is not one.
std::vector<ProbeOutcome> parse_probe_report(const std::string& json_text);

}  // namespace cjs::server
