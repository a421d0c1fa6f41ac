// Supervisor -> acceptor messages over a SOCK_SEQPACKET socketpair: a new
// worker's socket (passed with SCM_RIGHTS), or the order to drain.
#pragma once

#include <optional>

namespace cjs::server {

struct ControlMessage {
  enum Kind : char { kWorker = 'W', kDrain = 'D' };
  Kind kind;
  int slot = -1;
  int fd = -1;  // kWorker: the acceptor's end of the worker's socketpair
};

// Returns false if the message could not be sent.
bool send_control(int channel, const ControlMessage& message);

// Reads one message (non-blocking socket: nullopt when none is pending or
// on error; `closed` is set when the supervisor is gone).
std::optional<ControlMessage> receive_control(int channel, bool& closed);

}  // namespace cjs::server
