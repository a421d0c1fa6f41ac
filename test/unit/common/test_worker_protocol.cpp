// common/worker_protocol.h: every frame kind survives encode/decode, the
// decoders refuse malformed bodies, and FrameReader splits a byte stream
// into frames however it arrives.
#include <catch2/catch.hpp>

#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "common/worker_protocol.h"
#include "os/io.h"

using namespace cjs::protocol;
using cjs::ExecutionSummary;
using cjs::UploadedFile;
using cjs::os::write_all;

namespace {

// The kind and body of one whole encoded frame.
std::pair<FrameKind, std::string> split_frame(const std::string& frame) {
  FrameReader reader;
  reader.feed(frame);
  bool error = false;
  auto next = reader.next(error);
  REQUIRE_FALSE(error);
  REQUIRE(next);
  bool more_error = false;
  REQUIRE_FALSE(reader.next(more_error));
  return *next;
}

std::string u32_le(std::uint32_t v) {
  std::string out;
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  return out;
}

ExecutionSummary full_summary() {
  ExecutionSummary s;
  s.body = std::string("{\"globals_dict\":{}}\0\xff", 21);
  s.telemetry_status = cjs::kExecutedError;
  s.sandbox_status = -9;
  s.failure = "sandbox setup failed at seccomp: Invalid argument";
  s.limits.cpu_seconds = 3;
  s.limits.realtime_seconds = 2.5;
  s.limits.vmem_bytes = std::int64_t{512} << 20;
  s.limits.fsize_bytes = 0;
  s.limits.nproc = 15;
  s.limits.proxy = 1;
  s.wall_seconds = 0.125;
  s.stdout_bytes = std::size_t{5} << 32;  // beyond 32 bits
  s.stderr_bytes = 7;
  s.stdout_truncated = true;
  s.stderr_truncated = false;
  s.hit_memory_limit = true;
  s.applied_layers = cjs::kLayerPidNs | cjs::kLayerSeccomp | cjs::kLayerExecLock;
  s.landlock_abi = 7;
  s.warm_start = true;
  s.timed_out = true;
  s.cpu_limit_killed = false;
  return s;
}

void check_same(const ExecutionSummary& a, const ExecutionSummary& b) {
  CHECK(a.body == b.body);
  CHECK(a.telemetry_status == b.telemetry_status);
  CHECK(a.sandbox_status == b.sandbox_status);
  CHECK(a.failure == b.failure);
  CHECK(a.limits == b.limits);
  CHECK(a.wall_seconds == b.wall_seconds);
  CHECK(a.stdout_bytes == b.stdout_bytes);
  CHECK(a.stderr_bytes == b.stderr_bytes);
  CHECK(a.stdout_truncated == b.stdout_truncated);
  CHECK(a.stderr_truncated == b.stderr_truncated);
  CHECK(a.hit_memory_limit == b.hit_memory_limit);
  CHECK(a.applied_layers == b.applied_layers);
  CHECK(a.landlock_abi == b.landlock_abi);
  CHECK(a.warm_start == b.warm_start);
  CHECK(a.timed_out == b.timed_out);
  CHECK(a.cpu_limit_killed == b.cpu_limit_killed);
}

}  // namespace

TEST_CASE("protocol: a hello survives encode and decode") {
  Hello hello{3, 4242, 330000};
  auto [kind, body] = split_frame(encode(hello));
  CHECK(kind == FrameKind::kHello);
  auto decoded = decode_hello(body);
  REQUIRE(decoded);
  CHECK(decoded->slot == 3);
  CHECK(decoded->pid == 4242);
  CHECK(decoded->answer_deadline_ms == 330000);
}

TEST_CASE("protocol: a request survives encode and decode, files and all") {
  Request request;
  request.id = std::numeric_limits<std::uint64_t>::max();
  request.payload_text = R"({"code": "x = 1", "globals_dict": {}})";
  request.files = {UploadedFile{"python_lib.zip", std::string("PK\x03\x04\0\xff", 6)},
                   UploadedFile{"", ""}};
  request.log_code = true;
  auto [kind, body] = split_frame(encode(request));
  CHECK(kind == FrameKind::kRequest);
  auto decoded = decode_request(body);
  REQUIRE(decoded);
  CHECK(decoded->id == request.id);
  CHECK(decoded->payload_text == request.payload_text);
  REQUIRE(decoded->files.size() == 2);
  CHECK(decoded->files[0].name == "python_lib.zip");
  CHECK(decoded->files[0].content == request.files[0].content);
  CHECK(decoded->files[1].name.empty());
  CHECK(decoded->log_code);
}

TEST_CASE("protocol: a response carries the whole execution summary") {
  Response response;
  response.id = 17;
  response.summary = full_summary();
  response.last = true;
  auto [kind, body] = split_frame(encode(response));
  CHECK(kind == FrameKind::kResponse);
  auto decoded = decode_response(body);
  REQUIRE(decoded);
  CHECK(decoded->id == 17);
  CHECK(decoded->last);
  check_same(decoded->summary, response.summary);
  CHECK_FALSE(decoded->summary.success());
}

TEST_CASE("protocol: a summary without a sandbox status stays without one") {
  Response response;
  response.summary.body = R"({"globals_dict":{"x":17}})";
  response.summary.telemetry_status = cjs::kExecutedSuccess;
  auto decoded = decode_response(split_frame(encode(response)).second);
  REQUIRE(decoded);
  CHECK_FALSE(decoded->summary.sandbox_status);
  CHECK(decoded->summary.success());
  CHECK_FALSE(decoded->last);
  check_same(decoded->summary, response.summary);
}

TEST_CASE("protocol: truncated, padded and mismatched bodies are refused") {
  Response response;
  response.summary = full_summary();
  const std::string response_body = split_frame(encode(response)).second;
  const std::string request_body =
      split_frame(encode(Request{1, "{}", {{"a", "b"}}, false})).second;
  const std::string hello_body = split_frame(encode(Hello{1, 2, 3})).second;

  // Every proper prefix is malformed, and so is anything with bytes left over.
  for (std::size_t n = 0; n < response_body.size(); ++n) {
    CHECK_FALSE(decode_response(response_body.substr(0, n)));
  }
  for (std::size_t n = 0; n < request_body.size(); ++n) {
    CHECK_FALSE(decode_request(request_body.substr(0, n)));
  }
  for (std::size_t n = 0; n < hello_body.size(); ++n) {
    CHECK_FALSE(decode_hello(hello_body.substr(0, n)));
  }
  CHECK_FALSE(decode_response(response_body + "x"));
  CHECK_FALSE(decode_request(request_body + "x"));
  CHECK_FALSE(decode_hello(hello_body + "x"));
  // A body of one kind is not one of another.
  CHECK_FALSE(decode_response(request_body));
  CHECK_FALSE(decode_request(hello_body));
}

TEST_CASE("protocol: booleans other than 0 and 1 are refused") {
  const std::string body = split_frame(encode(Request{1, "{}", {}, true})).second;
  REQUIRE(decode_request(body));
  std::string bad = body;
  bad[bad.size() - 4] = 2;  // log_code, the last u32
  CHECK_FALSE(decode_request(bad));
}

TEST_CASE("protocol: a request with more than 1024 files is refused") {
  Request request;
  request.files.assign(1025, UploadedFile{"f", ""});
  CHECK_FALSE(decode_request(split_frame(encode(request)).second));
  request.files.resize(1024);
  CHECK(decode_request(split_frame(encode(request)).second));
}

TEST_CASE("protocol: a byte string longer than its frame is refused") {
  // id, then a payload length far beyond the bytes that follow.
  std::string body(8, '\0');
  body += u32_le(1000);
  body += "short";
  CHECK_FALSE(decode_request(body));
}

TEST_CASE("protocol: FrameReader takes frames fed a byte at a time") {
  const std::string stream = encode(Hello{1, 2, 3}) + encode(Request{9, "{}", {}, false}) +
                             encode(Response{9, full_summary(), false});
  FrameReader reader;
  std::vector<FrameKind> kinds;
  for (char byte : stream) {
    reader.feed(std::string_view(&byte, 1));
    bool error = false;
    while (auto frame = reader.next(error)) kinds.push_back(frame->first);
    REQUIRE_FALSE(error);
  }
  CHECK(kinds ==
        std::vector<FrameKind>{FrameKind::kHello, FrameKind::kRequest, FrameKind::kResponse});
}

TEST_CASE("protocol: FrameReader takes several frames fed at once") {
  FrameReader reader;
  for (int i = 0; i < 100; ++i) reader.feed(encode(Hello{i, i, 0}));
  bool error = false;
  for (int i = 0; i < 100; ++i) {
    auto frame = reader.next(error);
    REQUIRE(frame);
    auto hello = decode_hello(frame->second);
    REQUIRE(hello);
    CHECK(hello->slot == i);
  }
  CHECK_FALSE(reader.next(error));
  CHECK_FALSE(error);
}

TEST_CASE("protocol: FrameReader refuses empty and oversized frame lengths") {
  {
    FrameReader reader;
    reader.feed(u32_le(0) + "x");
    bool error = false;
    CHECK_FALSE(reader.next(error));
    CHECK(error);
  }
  {
    FrameReader reader;
    reader.feed(u32_le(kMaxFrameBytes + 1) + "x");
    bool error = false;
    CHECK_FALSE(reader.next(error));
    CHECK(error);
  }
  {
    // The largest allowed length is not an error: the frame is merely incomplete.
    FrameReader reader;
    reader.feed(u32_le(kMaxFrameBytes) + "x");
    bool error = false;
    CHECK_FALSE(reader.next(error));
    CHECK_FALSE(error);
  }
}

TEST_CASE("protocol: read_frame reads what write_all wrote, then EOF") {
  int pair[2];
  REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) == 0);
  Response response{5, full_summary(), true};
  REQUIRE(write_all(pair[0], encode(response)));
  close(pair[0]);
  FrameKind kind;
  std::string body;
  REQUIRE(read_frame(pair[1], kind, body));
  CHECK(kind == FrameKind::kResponse);
  auto decoded = decode_response(body);
  REQUIRE(decoded);
  check_same(decoded->summary, response.summary);
  CHECK_FALSE(read_frame(pair[1], kind, body));  // EOF
  close(pair[1]);
}

TEST_CASE("protocol: read_frame refuses an oversized length and a cut frame") {
  int pair[2];
  REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) == 0);
  REQUIRE(write_all(pair[0], u32_le(kMaxFrameBytes + 1) + "x"));
  FrameKind kind;
  std::string body;
  CHECK_FALSE(read_frame(pair[1], kind, body));
  const std::string frame = encode(Hello{1, 2, 3});
  REQUIRE(write_all(pair[0], frame.substr(0, frame.size() - 1)));
  close(pair[0]);
  CHECK_FALSE(read_frame(pair[1], kind, body));
  close(pair[1]);
}

TEST_CASE("protocol: applied layers are named in bit order") {
  CHECK(cjs::applied_layer_names(0) == "none");
  CHECK(cjs::applied_layer_names(cjs::kLayerUserNs | cjs::kLayerSeccomp) == "user-ns seccomp");
  CHECK(cjs::applied_layer_names(cjs::kLayerExecLock) == "exec-lock");
}
