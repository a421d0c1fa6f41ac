#include "common/worker_protocol.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace cjs::protocol {
namespace {

void put_u32(std::string& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void put_u64(std::string& out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void put_bytes(std::string& out, std::string_view bytes) {
  put_u32(out, static_cast<std::uint32_t>(bytes.size()));
  out.append(bytes);
}
void put_double(std::string& out, double v) {
  std::uint64_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  put_u64(out, bits);
}
void put_i64(std::string& out, std::int64_t v) { put_u64(out, static_cast<std::uint64_t>(v)); }
void put_bool(std::string& out, bool v) { put_u32(out, v ? 1 : 0); }

void put_limits(std::string& out, const Limits& l) {
  put_i64(out, l.cpu_seconds);
  put_double(out, l.realtime_seconds);
  put_i64(out, l.vmem_bytes);
  put_i64(out, l.fsize_bytes);
  put_i64(out, l.nproc);
  put_i64(out, l.proxy);
}

// The one encoding of an ExecutionSummary (decoded by Cursor::summary).
void put_summary(std::string& out, const ExecutionSummary& s) {
  put_bytes(out, s.body);
  put_bytes(out, s.telemetry_status);
  put_u32(out, static_cast<std::uint32_t>(s.sandbox_status.value_or(0)));
  put_bool(out, s.sandbox_status.has_value());
  put_bytes(out, s.failure);
  put_limits(out, s.limits);
  put_double(out, s.wall_seconds);
  put_u64(out, s.stdout_bytes);
  put_u64(out, s.stderr_bytes);
  put_bool(out, s.stdout_truncated);
  put_bool(out, s.stderr_truncated);
  put_bool(out, s.hit_memory_limit);
  put_u32(out, s.applied_layers);
  put_u32(out, static_cast<std::uint32_t>(s.landlock_abi));
  put_bool(out, s.warm_start);
  put_bool(out, s.timed_out);
  put_bool(out, s.cpu_limit_killed);
}

// Wraps a body into a frame: length, kind, body.
std::string frame(FrameKind kind, const std::string& body) {
  std::string out;
  out.reserve(body.size() + 5);
  put_u32(out, static_cast<std::uint32_t>(body.size() + 1));
  out.push_back(static_cast<char>(kind));
  out += body;
  return out;
}

// Bounds-checked reading of a frame body.
class Cursor {
 public:
  explicit Cursor(std::string_view data) : data_(data) {}
  bool u32(std::uint32_t& v) {
    if (data_.size() - pos_ < 4) return false;
    v = 0;
    for (int i = 0; i < 4; ++i)
      v |= std::uint32_t(static_cast<unsigned char>(data_[pos_ + i])) << (8 * i);
    pos_ += 4;
    return true;
  }
  bool u64(std::uint64_t& v) {
    if (data_.size() - pos_ < 8) return false;
    v = 0;
    for (int i = 0; i < 8; ++i)
      v |= std::uint64_t(static_cast<unsigned char>(data_[pos_ + i])) << (8 * i);
    pos_ += 8;
    return true;
  }
  bool i32(std::int32_t& v) {
    std::uint32_t u;
    if (!u32(u)) return false;
    v = static_cast<std::int32_t>(u);
    return true;
  }
  bool boolean(bool& v) {
    std::uint32_t u;
    if (!u32(u) || u > 1) return false;
    v = u == 1;
    return true;
  }
  bool i64(std::int64_t& v) {
    std::uint64_t u;
    if (!u64(u)) return false;
    v = static_cast<std::int64_t>(u);
    return true;
  }
  bool size(std::size_t& v) {
    std::uint64_t u;
    if (!u64(u)) return false;
    v = static_cast<std::size_t>(u);
    return true;
  }
  bool real(double& v) {
    std::uint64_t bits;
    if (!u64(bits)) return false;
    std::memcpy(&v, &bits, sizeof v);
    return true;
  }
  bool bytes(std::string& v) {
    std::uint32_t n;
    if (!u32(n) || data_.size() - pos_ < n) return false;
    v.assign(data_.substr(pos_, n));
    pos_ += n;
    return true;
  }
  bool limits(Limits& l) {
    return i64(l.cpu_seconds) && real(l.realtime_seconds) && i64(l.vmem_bytes) &&
           i64(l.fsize_bytes) && i64(l.nproc) && i64(l.proxy);
  }
  bool summary(ExecutionSummary& s) {
    std::int32_t status = 0;
    bool has_status = false;
    if (!bytes(s.body) || !bytes(s.telemetry_status) || !i32(status) || !boolean(has_status) ||
        !bytes(s.failure) || !limits(s.limits) || !real(s.wall_seconds) || !size(s.stdout_bytes) ||
        !size(s.stderr_bytes) || !boolean(s.stdout_truncated) || !boolean(s.stderr_truncated) ||
        !boolean(s.hit_memory_limit) || !u32(s.applied_layers) || !i32(s.landlock_abi) ||
        !boolean(s.warm_start) || !boolean(s.timed_out) || !boolean(s.cpu_limit_killed)) {
      return false;
    }
    if (has_status) s.sandbox_status = status;
    return true;
  }
  bool done() const { return pos_ == data_.size(); }

 private:
  std::string_view data_;
  std::size_t pos_ = 0;
};

}  // namespace

std::string encode(const Hello& hello) {
  std::string body;
  put_u32(body, static_cast<std::uint32_t>(hello.slot));
  put_u32(body, static_cast<std::uint32_t>(hello.pid));
  put_u32(body, hello.answer_deadline_ms);
  return frame(FrameKind::kHello, body);
}

std::string encode(const Request& r) {
  std::string body;
  std::size_t size = r.payload_text.size() + 32;
  for (const auto& file : r.files) size += file.name.size() + file.content.size() + 8;
  body.reserve(size);
  put_u64(body, r.id);
  put_bytes(body, r.payload_text);
  put_u32(body, static_cast<std::uint32_t>(r.files.size()));
  for (const auto& file : r.files) {
    put_bytes(body, file.name);
    put_bytes(body, file.content);
  }
  put_u32(body, r.log_code ? 1 : 0);
  return frame(FrameKind::kRequest, body);
}

std::string encode(const Response& r) {
  std::string body;
  body.reserve(r.summary.body.size() + r.summary.failure.size() + 160);
  put_u64(body, r.id);
  put_summary(body, r.summary);
  put_bool(body, r.last);
  return frame(FrameKind::kResponse, body);
}

std::optional<Hello> decode_hello(std::string_view body) {
  Cursor c(body);
  Hello h;
  if (!c.i32(h.slot) || !c.i32(h.pid) || !c.u32(h.answer_deadline_ms) || !c.done()) {
    return std::nullopt;
  }
  return h;
}

std::optional<Request> decode_request(std::string_view body) {
  Cursor c(body);
  Request r;
  std::uint32_t count = 0;
  if (!c.u64(r.id) || !c.bytes(r.payload_text) || !c.u32(count)) return std::nullopt;
  if (count > 1024) return std::nullopt;
  for (std::uint32_t i = 0; i < count; ++i) {
    UploadedFile file;
    if (!c.bytes(file.name) || !c.bytes(file.content)) return std::nullopt;
    r.files.push_back(std::move(file));
  }
  if (!c.boolean(r.log_code) || !c.done()) return std::nullopt;
  return r;
}

std::optional<Response> decode_response(std::string_view body) {
  Cursor c(body);
  Response r;
  if (!c.u64(r.id) || !c.summary(r.summary) || !c.boolean(r.last) || !c.done()) {
    return std::nullopt;
  }
  return r;
}

std::optional<std::pair<FrameKind, std::string>> FrameReader::next(bool& error) {
  error = false;
  std::string_view pending = std::string_view(buffer_).substr(offset_);
  if (pending.size() < 4) return std::nullopt;
  std::uint32_t length = 0;
  for (int i = 0; i < 4; ++i)
    length |= std::uint32_t(static_cast<unsigned char>(pending[i])) << (8 * i);
  if (length == 0 || length > kMaxFrameBytes) {
    error = true;
    return std::nullopt;
  }
  if (pending.size() - 4 < length) return std::nullopt;
  auto kind = static_cast<FrameKind>(pending[4]);
  std::string body(pending.substr(5, length - 1));
  offset_ += 4 + length;
  // Compact once the consumed prefix dominates, keeping appends amortized O(1).
  if (offset_ > buffer_.size() / 2) {
    buffer_.erase(0, offset_);
    offset_ = 0;
  }
  return std::make_pair(kind, std::move(body));
}

namespace {
bool read_exact(int fd, char* out, std::size_t n) {
  while (n > 0) {
    ssize_t got = ::read(fd, out, n);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return false;
    out += got;
    n -= static_cast<std::size_t>(got);
  }
  return true;
}
}  // namespace

bool read_frame(int fd, FrameKind& kind, std::string& body) {
  unsigned char header[5];
  if (!read_exact(fd, reinterpret_cast<char*>(header), sizeof header)) return false;
  std::uint32_t length = 0;
  for (int i = 0; i < 4; ++i) length |= std::uint32_t(header[i]) << (8 * i);
  if (length == 0 || length > kMaxFrameBytes) return false;
  kind = static_cast<FrameKind>(header[4]);
  body.resize(length - 1);
  return read_exact(fd, body.data(), body.size());
}

}  // namespace cjs::protocol
