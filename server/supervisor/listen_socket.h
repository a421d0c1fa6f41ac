// The service's TCP listener, opened by the supervisor before it locks its
// own egress and handed to the acceptor.
#pragma once

#include <string>

namespace cjs::server {

// A listening socket (close-on-exec, SO_REUSEADDR, backlog 1024) on `bind`
// (HOST:PORT, IPv6 as [addr]:port); -1 with `error` set on failure.
int open_listen_socket(const std::string& bind, std::string& error);

}  // namespace cjs::server
