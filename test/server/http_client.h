// A minimal blocking HTTP/1.1 client for the session tests: raw bytes out,
// one response (status line, headers, Content-Length body) in. Raw, so that
// tests can send what no library would (malformed requests).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cjs::stest {

struct HttpReply {
  int status = 0;
  std::string headers;  // the header block, lower-cased
  std::string body;
};

class HttpClient {
 public:
  // Connects to 127.0.0.1:`port` (REQUIREd), from the loopback address
  // `source` when given (another client address: 127.0.0.2, say); reads time
  // out after 30 s.
  explicit HttpClient(std::uint16_t port, const char* source = nullptr);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  bool send(std::string_view bytes);
  // The next response; nothing when the connection closed or timed out first.
  std::optional<HttpReply> receive();
  // True when the server closes the connection (without sending more).
  bool closed_by_server();
  void close();

 private:
  bool fill();  // reads more into buffer_; false on EOF, error or timeout
  int fd_ = -1;
  std::string buffer_;
};

}  // namespace cjs::stest
