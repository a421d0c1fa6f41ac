#include "os/egress_lock.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>

#include "os/landlock_syscalls.h"
#include "os/seccomp_filter.h"

namespace cjs::os {

int restrict_own_tcp_connect() {
  long abi = landlock_abi();
  if (abi < 0) return errno;  // ENOSYS (not built) or EOPNOTSUPP (disabled)
  if (abi < 4) return EOPNOTSUPP;
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return errno;
  // Only connect is handled: the filesystem and bind/listen stay as they were.
  // ABI 4 layout: the fields up to handled_access_net.
  LandlockRulesetAttr attr{0, LANDLOCK_ACCESS_NET_CONNECT_TCP, 0};
  int ruleset = landlock_create_ruleset(attr, offsetof(LandlockRulesetAttr, scoped));
  if (ruleset < 0) return errno;
  int err = landlock_restrict_self(ruleset) == 0 ? 0 : errno;
  close(ruleset);
  return err;
}

EgressLock restrict_own_network() {
  EgressLock lock;
  int err = restrict_own_tcp_connect();
  lock.landlock = err == 0;
  lock.detail = lock.landlock ? "Landlock: TCP connect denied"
                              : std::string("Landlock TCP rule unavailable: ") + std::strerror(err);
  SeccompFilter filter(SCMP_ACT_ALLOW);
  bool ok = filter && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0;
  for (int call : {SCMP_SYS(socket), SCMP_SYS(socketpair)}) {
    ok = ok && filter.add(SCMP_ACT_ERRNO(EACCES), call, SCMP_A0(SCMP_CMP_NE, AF_UNIX)) == 0;
  }
  ok = ok && filter.load() == 0;
  lock.seccomp = ok;
  lock.detail += ok ? "; seccomp: only AF_UNIX sockets" : "; seccomp socket filter failed";
  return lock;
}

bool probe_egress(std::string& reason) {
  int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listener < 0) {
    if (errno == EACCES || errno == EPERM) return true;  // no IPv4 socket at all
    reason = std::string("cannot create a probe listener: ") + std::strerror(errno);
    return false;
  }
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  if (bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      listen(listener, 1) != 0 ||
      getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    reason = std::string("cannot open a probe listener on 127.0.0.1: ") + std::strerror(errno);
    close(listener);
    return false;
  }
  int client = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int rc = client < 0 ? -1 : connect(client, reinterpret_cast<sockaddr*>(&address), sizeof address);
  int err = errno;
  if (client >= 0) close(client);
  close(listener);
  if (rc == 0) {
    reason = "this process can open outbound TCP connections";
    return false;
  }
  if (err != EACCES && err != EPERM) {
    reason = std::string("unexpected connect error: ") + std::strerror(err);
    return false;
  }
  return true;
}

}  // namespace cjs::os
