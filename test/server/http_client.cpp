#include "http_client.h"

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>

namespace cjs::stest {

HttpClient::HttpClient(std::uint16_t port, const char* source) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd_ >= 0);
  timeval tv{30, 0};
  ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (source != nullptr) {
    sockaddr_in from{};
    from.sin_family = AF_INET;
    REQUIRE(::inet_pton(AF_INET, source, &from.sin_addr) == 1);
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&from), sizeof from) == 0);
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
}

HttpClient::~HttpClient() { close(); }

void HttpClient::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

bool HttpClient::send(std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

bool HttpClient::fill() {
  char chunk[16384];
  const ssize_t n = ::read(fd_, chunk, sizeof chunk);
  if (n <= 0) return false;
  buffer_.append(chunk, static_cast<std::size_t>(n));
  return true;
}

std::optional<HttpReply> HttpClient::receive() {
  std::size_t end;
  while ((end = buffer_.find("\r\n\r\n")) == std::string::npos) {
    if (!fill()) return std::nullopt;
  }
  HttpReply reply;
  reply.headers = buffer_.substr(0, end + 2);
  std::transform(reply.headers.begin(), reply.headers.end(), reply.headers.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (reply.headers.rfind("http/1.1 ", 0) != 0) return std::nullopt;
  reply.status = std::atoi(reply.headers.c_str() + 9);
  std::size_t length = 0;
  const std::size_t at = reply.headers.find("\r\ncontent-length:");
  if (at != std::string::npos) length = std::strtoul(reply.headers.c_str() + at + 17, nullptr, 10);
  buffer_.erase(0, end + 4);
  while (buffer_.size() < length) {
    if (!fill()) return std::nullopt;
  }
  reply.body = buffer_.substr(0, length);
  buffer_.erase(0, length);
  return reply;
}

bool HttpClient::closed_by_server() {
  char byte;
  return buffer_.empty() && ::read(fd_, &byte, 1) == 0;
}

}  // namespace cjs::stest
