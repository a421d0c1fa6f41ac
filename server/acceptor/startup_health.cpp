#include "server/acceptor/startup_health.h"

#include "common/log.h"
#include "os/egress_lock.h"

namespace cjs::server {

bool check_startup_health(const std::vector<ProbeOutcome>& worker_probes, Metrics& metrics,
                          std::string& egress_failure) {
  bool passed = !worker_probes.empty();
  for (const auto& probe : worker_probes) {
    metrics.set_probe(probe.name, probe.passed);
    passed = passed && probe.passed;
  }
  const bool egress = os::probe_egress(egress_failure);
  metrics.set_probe("egress (acceptor)", egress);
  if (egress) {
    log::info("Startup check 'egress' passed", {{"process", "acceptor"}});
  } else {
    log::error("Startup check 'egress' failed with: " + egress_failure, {{"process", "acceptor"}});
  }
  return passed && egress;
}

}  // namespace cjs::server
