// The protocol between the HTTP acceptor and the jail workers, over a
// SOCK_STREAM Unix socketpair: length-prefixed frames.
//
//   frame := u32 length (little endian, of kind + body) | u8 kind | body
//
// The acceptor sends kRequest frames; a worker answers each with exactly one
// kResponse frame, in order. A worker announces itself with kHello first.
// Bodies are small fixed headers followed by length-prefixed byte strings,
// so 30 MiB of payload or zip crosses without any re-encoding.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/execution_summary.h"
#include "common/upload.h"

namespace cjs::protocol {

inline constexpr std::uint32_t kMaxFrameBytes = 256u << 20;

enum class FrameKind : std::uint8_t { kHello = 1, kRequest = 2, kResponse = 3 };

struct Hello {
  std::int32_t slot = 0;
  std::int32_t pid = 0;
  // How long the acceptor may wait for any answer of this worker before it
  // gives up on it (a stopped or wedged worker); 0: no limit.
  std::uint32_t answer_deadline_ms = 0;
};

struct Request {
  std::uint64_t id = 0;
  std::string payload_text;  // the `payload` form field, already checked by the acceptor
  std::vector<UploadedFile> files;
  bool log_code = false;
};

struct Response {
  std::uint64_t id = 0;
  ExecutionSummary summary;  // the whole of it: body, status, measurements
  bool last = false;         // the worker exits after this answer (recycling)
};

// Encoding to a whole frame (length prefix included).
std::string encode(const Hello& hello);
std::string encode(const Request& request);
std::string encode(const Response& response);

// Decoding a frame's body (after the length and kind); nullopt if malformed.
std::optional<Hello> decode_hello(std::string_view body);
std::optional<Request> decode_request(std::string_view body);
std::optional<Response> decode_response(std::string_view body);

// Incremental frame splitting for readers: feed bytes, take whole frames.
class FrameReader {
 public:
  void feed(std::string_view bytes) { buffer_.append(bytes); }
  // The next complete frame (kind, body), or nullopt. Sets `error` on an
  // oversized or malformed length.
  std::optional<std::pair<FrameKind, std::string>> next(bool& error);

 private:
  std::string buffer_;
  std::size_t offset_ = 0;
};

// Blocking helper for the worker side (a plain loop on a file descriptor;
// frames are written with os::write_all). Reads one frame; false on EOF or
// error.
bool read_frame(int fd, FrameKind& kind, std::string& body);

}  // namespace cjs::protocol
