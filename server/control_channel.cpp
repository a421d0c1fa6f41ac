#include "server/control_channel.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace cjs::server {

namespace {
struct Wire {
  char kind;
  int slot;
  int pid;
};
}  // namespace

bool send_control(int channel, const ControlMessage& message) {
  Wire wire{message.kind, message.slot, message.pid};
  iovec iov{&wire, sizeof wire};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  if (message.fd >= 0) {
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(cmsg), &message.fd, sizeof(int));
  }
  ssize_t n;
  do {
    n = sendmsg(channel, &msg, MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  return n == static_cast<ssize_t>(sizeof wire);
}

std::optional<ControlMessage> receive_control(int channel, bool& closed) {
  closed = false;
  Wire wire{};
  iovec iov{&wire, sizeof wire};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n = recvmsg(channel, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
  if (n == 0) {
    closed = true;
    return std::nullopt;
  }
  if (n != static_cast<ssize_t>(sizeof wire)) {
    if (n < 0 && errno != EAGAIN && errno != EINTR) closed = true;
    return std::nullopt;
  }
  ControlMessage message{static_cast<ControlMessage::Kind>(wire.kind), wire.slot, -1, wire.pid};
  for (cmsghdr* cmsg = CMSG_FIRSTHDR(&msg); cmsg != nullptr; cmsg = CMSG_NXTHDR(&msg, cmsg)) {
    if (cmsg->cmsg_level == SOL_SOCKET && cmsg->cmsg_type == SCM_RIGHTS) {
      std::memcpy(&message.fd, CMSG_DATA(cmsg), sizeof(int));
    }
  }
  return message;
}

}  // namespace cjs::server
