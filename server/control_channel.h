// Messages over a SOCK_SEQPACKET socketpair. Supervisor -> acceptor: a new
// worker's socket (passed with SCM_RIGHTS), or the order to drain. Acceptor
// -> supervisor: a worker it gave up on (no answer within its deadline),
// which the supervisor kills and replaces.
#pragma once

#include <optional>

namespace cjs::server {

struct ControlMessage {
  enum Kind : char { kWorker = 'W', kDrain = 'D', kGaveUp = 'G' };
  Kind kind;
  int slot = -1;
  int fd = -1;  // kWorker: the acceptor's end of the worker's socketpair
  int pid = 0;  // kGaveUp: the worker's pid, from its hello
};

// Returns false if the message could not be sent.
bool send_control(int channel, const ControlMessage& message);

// Reads one message (non-blocking socket: nullopt when none is pending or
// on error; `closed` is set when the other end is gone).
std::optional<ControlMessage> receive_control(int channel, bool& closed);

}  // namespace cjs::server
