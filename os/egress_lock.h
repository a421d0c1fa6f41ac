// The service's own processes never open outbound TCP connections: each one
// forbids itself with a Landlock network rule at startup, and the startup
// "egress" probe proves it without contacting any other address.
#pragma once

#include <string>

namespace cjs::os {

// Forbids TCP connect() for the calling process and its future children;
// binding and listening stay possible (the HTTP listener). Sets
// no_new_privs, which changes nothing for processes that stay what they are
// (a root supervisor still execs root workers). Must run before the process
// starts threads. Returns 0, or an errno (EOPNOTSUPP when the kernel's
// Landlock lacks network rules, ABI < 4).
int restrict_own_tcp_connect();

// What restrict_own_network() could apply.
struct EgressLock {
  bool landlock = false;  // TCP connect forbidden (Landlock ABI >= 4)
  bool seccomp = false;   // only AF_UNIX sockets can be created
  std::string detail;     // for logs: what applied, and why not the rest
};

// Both locks: the Landlock rule above where the kernel has it, and a seccomp
// filter that lets this process and its children create AF_UNIX sockets
// only (EACCES otherwise), which holds on any kernel. Call it after the
// listening socket is open (accepting needs no socket()).
EgressLock restrict_own_network();

// Tries to create an IPv4 socket (refused: passes); where that is possible,
// opens a listener on 127.0.0.1 (an ephemeral port of our own) and connects
// (an ephemeral port of our own) and connects to it: passes when the
// connect is refused with EACCES/EPERM. Never contacts another address.
// `reason` explains a failure.
bool probe_egress(std::string& reason);

}  // namespace cjs::os
