// The service's own egress lock (os/egress_lock.h), proved in forked children
// with an unrestricted control next to each check.
#include <catch2/catch.hpp>

#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <functional>
#include <string>

#include "os/egress_lock.h"

namespace {

// Runs `body` in a child; returns its exit code (255 if it crashed).
int in_child(const std::function<int()>& body) {
  pid_t pid = fork();
  if (pid == 0) _exit(body());
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 255;
}

}  // namespace

TEST_CASE("the egress probe fails for an unrestricted process", "[egress]") {
  CHECK(in_child([] {
          std::string reason;
          return cjs::os::probe_egress(reason) ? 1 : 0;
        }) == 0);
}

TEST_CASE("restrict_own_network leaves only AF_UNIX sockets and passes the probe", "[egress]") {
  CHECK(in_child([] {
          cjs::os::EgressLock lock = cjs::os::restrict_own_network();
          if (!lock.seccomp) return 10;
          if (socket(AF_INET, SOCK_STREAM, 0) >= 0 || errno != EACCES) return 11;
          if (socket(AF_INET6, SOCK_DGRAM, 0) >= 0 || errno != EACCES) return 12;
          if (socket(AF_NETLINK, SOCK_RAW, 0) >= 0 || errno != EACCES) return 13;
          int pair[2];
          if (socketpair(AF_UNIX, SOCK_STREAM, 0, pair) != 0) return 14;
          if (socket(AF_UNIX, SOCK_STREAM, 0) < 0) return 15;
          std::string reason;
          return cjs::os::probe_egress(reason) ? 0 : 16;
        }) == 0);
}

TEST_CASE("a listener opened before the lock keeps accepting", "[egress]") {
  CHECK(in_child([] {
          int listener = socket(AF_INET, SOCK_STREAM, 0);
          if (listener < 0 || listen(listener, 1) != 0) return 20;
          cjs::os::restrict_own_network();
          sockaddr_storage address{};
          socklen_t length = sizeof address;
          if (getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length) != 0) return 21;
          // Connect from an unrestricted grandchild? Not possible from here:
          // the filter is inherited. The lock must not break listen/accept
          // setup calls, which are what the acceptor uses.
          return listen(listener, 8) == 0 ? 0 : 22;
        }) == 0);
}
