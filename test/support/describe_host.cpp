// cjs_describe_host: what this host offers the test suites, printed before
// they run (test/run-all), so that a red run on another machine says at once
// which kernel features and speed it had. Exits 1, naming what is missing,
// when the host lacks something no suite can do without (then the suites
// would fail by the hundred with less clear messages).
//
//   cjs_describe_host
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "common/config.h"
#include "jail/executor.h"
#include "test/support/host_features.h"

namespace {

// Median wall time of `runs` starts of the interpreter as the sandbox starts
// it (-E -B), unconfined: the speed every timing of the suites scales with.
double median_start_ms(const std::string& python, int runs) {
  std::vector<double> ms;
  for (int i = 0; i < runs; ++i) {
    const auto start = std::chrono::steady_clock::now();
    const pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
      execl(python.c_str(), python.c_str(), "-E", "-B", "-c", "pass", static_cast<char*>(nullptr));
      _exit(127);
    }
    int status = 0;
    if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) return -1;
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                     .count());
  }
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

}  // namespace

int main() {
  utsname uts{};
  uname(&uts);
  std::printf("host: kernel %s %s, %ld cores\n", uts.release, uts.machine,
              sysconf(_SC_NPROCESSORS_ONLN));
  std::printf("host: %s\n", cjs::test::describe_i386_abi().c_str());

  const cjs::Config config = cjs::default_config();
  const double start_ms = median_start_ms(config.python_bin, 9);
  if (start_ms < 0) {
    std::printf("host: MISSING the sandbox interpreter %s (deploy/setup-host creates it)\n",
                config.python_bin.c_str());
    return 1;
  }
  std::printf("host: %s -E -B -c pass takes %.0f ms (median of 9)\n", config.python_bin.c_str(),
              start_ms);

  std::vector<cjs::jail::LayerState> layers;
  try {
    layers = cjs::jail::Executor(config).layer_states();
  } catch (const std::exception& e) {
    std::printf("host: MISSING what sandboxes need: %s\n", e.what());
    return 1;
  }
  bool landlock = false, apparmor = false;
  for (const auto& layer : layers) {
    std::printf("host: layer %-12s %-8s %s\n", layer.name.c_str(),
                layer.active ? "active" : "inactive", layer.detail.c_str());
    if (layer.name == "landlock") landlock = layer.active;
    if (layer.name == "apparmor") apparmor = layer.active;
  }
  // The mount view's / is a tmpfs any uid may list: without Landlock or the
  // sandbox's AppArmor profile the disk probe (and the file-system deny
  // tests) cannot pass, and the service rightly refuses to run code.
  if (!landlock && !apparmor) {
    std::printf(
        "host: MISSING file-system confinement: neither Landlock (kernel 5.13+, 'landlock' in the "
        "lsm= list) nor the sandbox's AppArmor profile is available; the service refuses to run "
        "code here, and the suites cannot pass\n");
    return 1;
  }
  return 0;
}
