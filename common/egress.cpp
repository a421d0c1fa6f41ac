#include "common/egress.h"

#include <arpa/inet.h>
#include <linux/landlock.h>
#include <netinet/in.h>
#include <seccomp.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

namespace cjs {
namespace {

// ABI 4 layout of struct landlock_ruleset_attr (Debian 12's header predates it).
struct NetRulesetAttr {
  std::uint64_t handled_access_fs;
  std::uint64_t handled_access_net;
};
constexpr std::uint64_t kAccessNetConnectTcp = 1ULL << 1;

}  // namespace

int restrict_own_tcp_connect() {
  long abi = syscall(SYS_landlock_create_ruleset, nullptr, 0, LANDLOCK_CREATE_RULESET_VERSION);
  if (abi < 0) return errno;  // ENOSYS (not built) or EOPNOTSUPP (disabled)
  if (abi < 4) return EOPNOTSUPP;
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return errno;
  // Only connect is handled: the filesystem and bind/listen stay as they were.
  NetRulesetAttr attr{0, kAccessNetConnectTcp};
  int ruleset = static_cast<int>(syscall(SYS_landlock_create_ruleset, &attr, sizeof attr, 0U));
  if (ruleset < 0) return errno;
  int err = syscall(SYS_landlock_restrict_self, ruleset, 0U) == 0 ? 0 : errno;
  close(ruleset);
  return err;
}

EgressLock restrict_own_network() {
  EgressLock lock;
  int err = restrict_own_tcp_connect();
  lock.landlock = err == 0;
  lock.detail = lock.landlock ? "Landlock: TCP connect denied"
                              : std::string("Landlock TCP rule unavailable: ") + std::strerror(err);
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
  bool ok = ctx != nullptr && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0;
  for (int call : {SCMP_SYS(socket), SCMP_SYS(socketpair)}) {
    ok = ok &&
         seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), call, 1, SCMP_A0(SCMP_CMP_NE, AF_UNIX)) == 0;
  }
  ok = ok && seccomp_load(ctx) == 0;
  if (ctx != nullptr) seccomp_release(ctx);
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

}  // namespace cjs
