// Real workers behind the real pool: the codejail-worker binary of this
// build, started by the supervisor's own WorkerSlots (through WorkerLauncher)
// and handed to a WorkerPool over the real control channel, as in the
// service; the test plays the supervisor's part of reaping and replacing
// workers that exit.
#pragma once

#include <sys/types.h>

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/worker_protocol.h"
#include "server/acceptor/control_receiver.h"
#include "server/metrics.h"
#include "server/service_config.h"
#include "server/supervisor/worker_launcher.h"
#include "server/supervisor/worker_slots.h"
#include "server/worker_pool.h"

namespace cjs::stest {

// Sandbox uids of this suite: base + slot, apart from production (61000),
// the integration and attack suites (61000 + 1..255) and the Python suites
// (62000 and up); test/README.md lists them all.
inline constexpr std::uint32_t kSandboxUidBase = 60000;

// The codejail-worker binary of this build.
std::string worker_binary();

// Holds `count` free slots of this suite (flock on
// /run/cjs-test-slots/server-N), so that ctest processes running at the same
// time never share a sandbox uid. Released on destruction.
class SlotLocks {
 public:
  explicit SlotLocks(int count);
  ~SlotLocks();
  SlotLocks(const SlotLocks&) = delete;
  SlotLocks& operator=(const SlotLocks&) = delete;
  const std::vector<int>& slots() const { return slots_; }

 private:
  std::vector<int> slots_;
  std::vector<int> fds_;
};

// The workers' configuration text: ample CPU and REALTIME (only what a
// test provokes may end a run), no recycle jitter, this suite's uid base.
std::string test_config_yaml(int max_requests);

struct FixtureOptions {
  int workers = 1;
  int max_requests = 0;  // 0: never recycle
  server::PoolSettings pool;
};

class WorkerFixture {
 public:
  explicit WorkerFixture(FixtureOptions options = {});
  // Closes the pool's sockets (the workers then exit on their own), then
  // stops and reaps every worker.
  ~WorkerFixture();
  WorkerFixture(const WorkerFixture&) = delete;
  WorkerFixture& operator=(const WorkerFixture&) = delete;

  boost::asio::io_context& io() { return *io_; }
  server::WorkerPool& pool() { return *pool_; }
  server::Metrics& metrics() { return metrics_; }
  const Config& settings() const { return config_->settings(); }

  // Starts one worker per slot and waits (REQUIREd) until all said hello.
  void start_workers();

  // Runs the io_context, reaping and replacing exited workers as the
  // supervisor does, until `done` holds; false when `timeout` passed first.
  bool run_until(const std::function<bool()>& done,
                 std::chrono::seconds timeout = std::chrono::seconds(60));

  // Submits `request` and waits (REQUIREd) for its outcome.
  server::PoolOutcome run(protocol::Request request);

  // Pids of the live codejail-worker processes this fixture started.
  std::vector<pid_t> worker_pids() const;

 private:
  void reap();

  FixtureOptions options_;
  SlotLocks slots_;
  std::string config_path_;
  std::unique_ptr<server::ServiceConfig> config_;
  server::WorkerLauncher launcher_;
  server::Metrics metrics_;
  std::unique_ptr<boost::asio::io_context> io_;
  std::unique_ptr<server::WorkerPool> pool_;
  std::unique_ptr<server::ControlReceiver> receiver_;
  std::unique_ptr<server::WorkerSlots> workers_;
  int control_[2] = {-1, -1};
};

// A request for `code` with `globals_json` (JSON text of an object).
protocol::Request request_for(std::string_view code, std::string_view globals_json = "{}");

}  // namespace cjs::stest
