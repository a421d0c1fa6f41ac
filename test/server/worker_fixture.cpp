#include "worker_fixture.h"

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>

#include "test/support/test_support.h"

namespace cjs::stest {

std::string worker_binary() { return CJS_WORKER_BINARY; }

SlotLocks::SlotLocks(int count) {
  // /run is a tmpfs: the locks never outlive a boot; flock() ones end with
  // the process that holds them.
  const std::string dir = "/run/cjs-test-slots";
  ::mkdir(dir.c_str(), 0700);
  for (int candidate = 0; candidate < 100 && static_cast<int>(slots_.size()) < count; ++candidate) {
    const std::string path = dir + "/server-" + std::to_string(candidate);
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) continue;
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      ::close(fd);
      continue;
    }
    slots_.push_back(candidate);
    fds_.push_back(fd);
  }
  INFO("no free server test slots in /run/cjs-test-slots");
  REQUIRE(static_cast<int>(slots_.size()) == count);
}

SlotLocks::~SlotLocks() {
  for (int fd : fds_) ::close(fd);
}

std::string test_config_yaml(int max_requests) {
  return "CODEJAIL_ENABLED: true\n"
         "CODE_JAIL:\n"
         "  python_bin: /opt/codejail-service/sandbox-venv/bin/python\n"
         "  limits: {CPU: 10, REALTIME: 20, VMEM: 536870912, FSIZE: 1048576, NPROC: 15}\n"
         "CODEJAIL_SERVICE:\n"
         "  max_requests: " +
         std::to_string(max_requests) +
         "\n"
         "  max_requests_jitter: 0\n"
         "  sandbox_uid_base: " +
         std::to_string(kSandboxUidBase) + "\n";
}

namespace {

// ServiceConfig reads a file, as the service does.
std::string write_config(const std::string& text) {
  char path[] = "/tmp/cjs-server-test-config-XXXXXX";
  const int fd = ::mkstemp(path);
  REQUIRE(fd >= 0);
  REQUIRE(::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()));
  ::close(fd);
  return path;
}

// The parent pid in /proc/PID/stat, or nothing when the process is gone.
std::optional<pid_t> parent_of(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return std::nullopt;
  const std::size_t close = line.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  char state = 0;
  int ppid = 0;
  if (std::sscanf(line.c_str() + close + 1, " %c %d", &state, &ppid) != 2) return std::nullopt;
  if (state == 'Z') return std::nullopt;
  return ppid;
}

}  // namespace

WorkerFixture::WorkerFixture(FixtureOptions options)
    : options_(options),
      slots_(options.workers),
      config_path_(write_config(test_config_yaml(options.max_requests))),
      launcher_(worker_binary()),
      io_(std::make_unique<boost::asio::io_context>()) {
  std::vector<std::string> warnings;
  config_ = std::make_unique<server::ServiceConfig>(
      server::ServiceConfig::load(config_path_, {}, warnings));
  INFO("configuration warnings: " << warnings.size());
  REQUIRE(warnings.empty());
  pool_ = std::make_unique<server::WorkerPool>(*io_, options_.pool, metrics_);
  // The control channel of the service: the supervisor's end hands every
  // (replacement) worker's socket to the acceptor's end.
  REQUIRE(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, control_) == 0);
  receiver_ = std::make_unique<server::ControlReceiver>(*io_, *pool_, [](const char*) {});
  REQUIRE(receiver_->adopt(control_[1]));
  receiver_->start();
  workers_ = std::make_unique<server::WorkerSlots>(launcher_, control_[0]);
}

WorkerFixture::~WorkerFixture() {
  // As when the acceptor goes away: the pool's sockets close with the
  // io_context's handlers, and the workers exit on their own.
  receiver_.reset();
  pool_.reset();
  io_.reset();
  workers_->stop(std::chrono::seconds(10));
  ::close(control_[0]);
  ::unlink(config_path_.c_str());
}

void WorkerFixture::start_workers() {
  for (int slot : slots_.slots()) workers_->start(slot, *config_);
  const auto expected = static_cast<std::size_t>(options_.workers);
  INFO("workers ready: " << pool_->workers() << " of " << expected);
  REQUIRE(run_until([&] { return pool_->workers() == expected; }));
}

void WorkerFixture::reap() {
  int status = 0;
  pid_t pid;
  while ((pid = ::waitpid(-1, &status, WNOHANG)) > 0) workers_->on_exit(pid, status, config_.get());
}

bool WorkerFixture::run_until(const std::function<bool()>& done, std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    io_->restart();
    io_->run_for(std::chrono::milliseconds(20));
    reap();
  }
  return true;
}

server::PoolOutcome WorkerFixture::run(protocol::Request request) {
  std::optional<server::PoolOutcome> outcome;
  pool_->submit(std::move(request), [&](server::PoolOutcome o) { outcome = std::move(o); });
  REQUIRE(run_until([&] { return outcome.has_value(); }));
  return std::move(*outcome);
}

std::vector<pid_t> WorkerFixture::worker_pids() const {
  std::vector<pid_t> pids;
  for (pid_t pid : test::processes_named("codejail-worker")) {
    if (parent_of(pid) == ::getpid()) pids.push_back(pid);
  }
  return pids;
}

protocol::Request request_for(std::string_view code, std::string_view globals_json) {
  static std::uint64_t next_id = 1;
  protocol::Request request;
  request.id = next_id++;
  request.payload_text = test::payload_json(code, globals_json);
  return request;
}

}  // namespace cjs::stest
