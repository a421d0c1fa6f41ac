// cjs-bench-worker-client: the latency of one jail worker without the HTTP
// acceptor, interleaved with the service and the bare interpreter.
//
// Starts codejail-worker exactly as the supervisor does (one end of a
// socketpair at fd 3) and sends it the same request frame the acceptor would
// send (common/worker_protocol.h), one request at a time. Optionally, every
// round trip is accompanied by
//   --http PORT: the same request as raw HTTP bytes (--http-request, what
//     python-requests sends) to the service on 127.0.0.1:PORT over one
//     keep-alive connection;
//   --bare-python PATH: the bare interpreter, `PATH -E -B jailed_code` in
//     --bare-dir (a directory laid out like a sandbox dir) with the executor's
//     environment and --bare-stdin on stdin, no confinement;
// in an order that rotates from one sample to the next. The measurements of
// one sample are taken back to back, so they share the machine's noise: their
// ratios and differences hold on a busy machine where absolute times drift.
//
//   cjs-bench-worker-client --worker PATH --config FILE --payload FILE
//       [--file NAME=PATH]... [--slot N] [--expect FILE] (--requests N | --seconds S)
//       [--http PORT --http-request FILE]
//       [--bare-python PATH --bare-dir DIR --bare-stdin FILE [--bare-expect FILE]
//        [--bare-kill-after SECONDS]]
//
// Output: one line per sample, "sample worker=<us> [http=<us>] [bare=<us>]".
// Exit status 0 when every answer was right (--expect: the exact body from
// the worker and the service; HTTP status 200; --bare-expect: the bare
// interpreter's exact stdout, or with --bare-kill-after, that it was still
// running when killed), 1 on a wrong answer or a failure, 2 on usage errors.

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "common/worker_protocol.h"
#include "os/io.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string worker;
  std::string config;
  std::string payload_path;
  std::vector<std::pair<std::string, std::string>> files;  // name, path
  std::string expect_path;
  int slot = 0;
  long requests = 0;  // 0: until --seconds elapsed
  double seconds = 0;
  int http_port = 0;  // 0: worker only
  std::string http_request_path;
  std::string bare_python;  // empty: no bare runs
  std::string bare_dir;
  std::string bare_stdin_path;
  std::string bare_expect_path;
  double bare_kill_after = 0;  // the REALTIME limit of a run expected to time out
};

[[noreturn]] void usage(const std::string& message) {
  std::cerr << "cjs-bench-worker-client: " << message
            << "\nusage: cjs-bench-worker-client --worker PATH --config FILE --payload FILE "
               "[--file NAME=PATH]... [--slot N] [--requests N] [--seconds S] [--expect FILE] "
               "[--http PORT --http-request FILE] [--bare-python PATH --bare-dir DIR "
               "--bare-stdin FILE [--bare-expect FILE] [--bare-kill-after S]]\n";
  std::exit(2);
}

bool read_file(const std::string& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream text;
  text << in.rdbuf();
  out = text.str();
  return true;
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(arg + " needs a value");
      return argv[++i];
    };
    if (arg == "--worker") {
      o.worker = value();
    } else if (arg == "--config") {
      o.config = value();
    } else if (arg == "--payload") {
      o.payload_path = value();
    } else if (arg == "--file") {
      std::string spec = value();
      auto eq = spec.find('=');
      if (eq == std::string::npos || eq == 0) usage("--file wants NAME=PATH");
      o.files.emplace_back(spec.substr(0, eq), spec.substr(eq + 1));
    } else if (arg == "--expect") {
      o.expect_path = value();
    } else if (arg == "--slot") {
      o.slot = std::atoi(value().c_str());
    } else if (arg == "--requests") {
      o.requests = std::atol(value().c_str());
    } else if (arg == "--seconds") {
      o.seconds = std::atof(value().c_str());
    } else if (arg == "--http") {
      o.http_port = std::atoi(value().c_str());
    } else if (arg == "--http-request") {
      o.http_request_path = value();
    } else if (arg == "--bare-python") {
      o.bare_python = value();
    } else if (arg == "--bare-dir") {
      o.bare_dir = value();
    } else if (arg == "--bare-stdin") {
      o.bare_stdin_path = value();
    } else if (arg == "--bare-expect") {
      o.bare_expect_path = value();
    } else if (arg == "--bare-kill-after") {
      o.bare_kill_after = std::atof(value().c_str());
    } else {
      usage("unknown argument " + arg);
    }
  }
  if (o.worker.empty() || o.config.empty() || o.payload_path.empty()) {
    usage("--worker, --config and --payload are required");
  }
  if (o.requests <= 0 && o.seconds <= 0) usage("give --requests N or --seconds S");
  if (o.slot < 0 || o.slot > 255) usage("--slot must be 0-255");
  if ((o.http_port != 0) != !o.http_request_path.empty()) {
    usage("--http and --http-request go together");
  }
  if (o.http_port < 0 || o.http_port > 65535) usage("bad --http port");
  if (!o.bare_python.empty() && (o.bare_dir.empty() || o.bare_stdin_path.empty())) {
    usage("--bare-python needs --bare-dir and --bare-stdin");
  }
  return o;
}

// Starts the worker the way server/supervisor/worker_launcher.cpp does: socket at fd 3, the
// configuration by path (the supervisor passes a memfd snapshot of the same
// text). Returns the pid; `fd` gets our end of the socketpair.
pid_t spawn_worker(const Options& o, int& fd) {
  int pair[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
    std::perror("socketpair");
    std::exit(1);
  }
  std::string slot = std::to_string(o.slot);
  pid_t pid = fork();
  if (pid == 0) {
    int sock = fcntl(pair[1], F_DUPFD_CLOEXEC, 10);
    if (sock < 0 || dup2(sock, 3) != 3) _exit(127);
    execl(o.worker.c_str(), "codejail-worker", "--fd", "3", "--config", o.config.c_str(), "--slot",
          slot.c_str(), "--max-requests", "0", static_cast<char*>(nullptr));
    _exit(127);
  }
  close(pair[1]);
  if (pid < 0) {
    std::perror("fork");
    std::exit(1);
  }
  fd = pair[0];
  return pid;
}

int stop_worker(pid_t pid, int fd) {
  close(fd);  // the worker exits on EOF
  int status = 0;
  waitpid(pid, &status, 0);
  return status;
}

// One keep-alive HTTP/1.1 connection to the service on loopback.
class HttpClient {
 public:
  explicit HttpClient(int port) {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int one = 1;
    if (fd_ < 0 || setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0 ||
        connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      std::perror("connect to the service");
      std::exit(1);
    }
  }
  ~HttpClient() { close(fd_); }
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Sends `request`, reads one response; false on a connection failure.
  bool exchange(const std::string& request, int& status, std::string& body) {
    if (!cjs::os::write_all(fd_, request)) return false;
    std::size_t header_end;
    while ((header_end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      if (!fill()) return false;
    }
    std::string head = buffer_.substr(0, header_end);
    if (head.size() < 12 || head.compare(0, 5, "HTTP/") != 0) return false;
    status = std::atoi(head.c_str() + 9);
    std::string lower = head;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    auto cl = lower.find("\r\ncontent-length:");
    if (cl == std::string::npos) return false;  // the service always sends one
    std::size_t length = std::strtoul(head.c_str() + cl + 17, nullptr, 10);
    std::size_t need = header_end + 4 + length;
    while (buffer_.size() < need) {
      if (!fill()) return false;
    }
    body = buffer_.substr(header_end + 4, length);
    buffer_.erase(0, need);
    return true;
  }

 private:
  bool fill() {
    char chunk[65536];
    ssize_t n;
    do {
      n = read(fd_, chunk, sizeof chunk);
    } while (n < 0 && errno == EINTR);
    if (n <= 0) return false;
    buffer_.append(chunk, static_cast<std::size_t>(n));
    return true;
  }

  int fd_ = -1;
  std::string buffer_;
};

// One bare interpreter run: fork, exec `python -E -B jailed_code` in the
// directory with the executor's environment (jail/executor.cpp), feed stdin,
// read stdout to EOF (or kill at the deadline), reap. Like the executor, the
// child gets pipes for stdin and stdout; stderr is discarded.
struct BareResult {
  bool ok = false;
  bool killed = false;
  std::string out;
};

BareResult run_bare(const Options& o, const std::string& stdin_data) {
  BareResult result;
  int in[2], out[2];
  if (pipe2(in, O_CLOEXEC) != 0) return result;
  if (pipe2(out, O_CLOEXEC) != 0) {
    close(in[0]);
    close(in[1]);
    return result;
  }
  const std::string home = "HOME=" + o.bare_dir + "/tmp";
  const char* env[] = {"PATH=/usr/local/bin:/usr/bin:/bin", "TMPDIR=tmp", home.c_str(),
                       "LANG=C.UTF-8", nullptr};
  const char* argv[] = {o.bare_python.c_str(), "-E", "-B", "jailed_code", nullptr};
  pid_t pid = fork();
  if (pid == 0) {
    int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (dup2(in[0], 0) != 0 || dup2(out[1], 1) != 1 || null < 0 || dup2(null, 2) != 2 ||
        chdir(o.bare_dir.c_str()) != 0) {
      _exit(127);
    }
    execve(argv[0], const_cast<char* const*>(argv), const_cast<char* const*>(env));
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  if (pid < 0) {
    close(in[1]);
    close(out[0]);
    return result;
  }
  (void)cjs::os::write_all(in[1], stdin_data);
  close(in[1]);
  const auto deadline =
      Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(
                         o.bare_kill_after > 0 ? o.bare_kill_after : 3600));
  char buf[65536];
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      kill(pid, SIGKILL);
      result.killed = true;
      break;
    }
    pollfd p{out[0], POLLIN, 0};
    int r = poll(&p, 1, static_cast<int>(std::min<long long>(left.count() + 1, 1 << 30)));
    if (r < 0 && errno == EINTR) continue;
    if (r == 0) continue;
    ssize_t n = read(out[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    result.out.append(buf, static_cast<std::size_t>(n));
  }
  close(out[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.ok = result.killed
                  ? o.bare_kill_after > 0
                  : o.bare_kill_after <= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
  return result;
}

long long micros(Clock::duration d) {
  return static_cast<long long>(std::chrono::duration_cast<std::chrono::microseconds>(d).count());
}

}  // namespace

int main(int argc, char** argv) {
  Options o = parse(argc, argv);
  signal(SIGPIPE, SIG_IGN);

  cjs::protocol::Request request;
  if (!read_file(o.payload_path, request.payload_text)) usage("cannot read " + o.payload_path);
  for (const auto& [name, path] : o.files) {
    std::string content;
    if (!read_file(path, content)) usage("cannot read " + path);
    request.files.push_back({name, std::move(content)});
  }
  std::string expected;
  const bool check = !o.expect_path.empty();
  if (check && !read_file(o.expect_path, expected)) usage("cannot read " + o.expect_path);

  std::string http_request;
  if (o.http_port != 0 && !read_file(o.http_request_path, http_request)) {
    usage("cannot read " + o.http_request_path);
  }

  int fd = -1;
  pid_t pid = spawn_worker(o, fd);
  cjs::protocol::FrameKind kind;
  std::string body;
  if (!cjs::protocol::read_frame(fd, kind, body) || kind != cjs::protocol::FrameKind::kHello) {
    std::cerr << "cjs-bench-worker-client: the worker did not say hello\n";
    stop_worker(pid, fd);
    return 1;
  }

  std::optional<HttpClient> http;
  if (o.http_port != 0) http.emplace(o.http_port);
  std::string bare_stdin, bare_expected;
  const bool bare = !o.bare_python.empty();
  if (bare && !read_file(o.bare_stdin_path, bare_stdin)) usage("cannot read " + o.bare_stdin_path);
  const bool bare_check = !o.bare_expect_path.empty();
  if (bare_check && !read_file(o.bare_expect_path, bare_expected)) {
    usage("cannot read " + o.bare_expect_path);
  }

  const auto start = Clock::now();
  int failures = 0;
  auto wrong = [&](const std::string& what, const std::string& answer) {
    if (failures++ == 0) {
      std::cerr << "cjs-bench-worker-client: unexpected " << what << ": " << answer.substr(0, 500)
                << "\n";
    }
  };

  // The three measurements; each returns false on a failure that ends the run.
  auto worker_round_trip = [&](long long& us) {
    const auto sent = Clock::now();
    // Encoding is part of the hand-off the acceptor does for every request.
    if (!cjs::os::write_all(fd, cjs::protocol::encode(request)) ||
        !cjs::protocol::read_frame(fd, kind, body)) {
      std::cerr << "cjs-bench-worker-client: the worker went away\n";
      return false;
    }
    auto response = kind == cjs::protocol::FrameKind::kResponse
                        ? cjs::protocol::decode_response(body)
                        : std::nullopt;
    us = micros(Clock::now() - sent);
    if (!response || response->id != request.id) {
      std::cerr << "cjs-bench-worker-client: malformed answer from the worker\n";
      return false;
    }
    if (check && response->summary.body != expected) {
      wrong("answer from the worker", response->summary.body);
    }
    return true;
  };
  auto http_round_trip = [&](long long& us) {
    int status = 0;
    std::string http_body;
    const auto sent = Clock::now();
    if (!http->exchange(http_request, status, http_body)) {
      std::cerr << "cjs-bench-worker-client: the HTTP exchange with the service failed\n";
      return false;
    }
    us = micros(Clock::now() - sent);
    if (status != 200) wrong("HTTP status " + std::to_string(status), http_body);
    if (check && http_body != expected) wrong("answer from the service", http_body);
    return true;
  };
  auto bare_run = [&](long long& us) {
    const auto started = Clock::now();
    BareResult r = run_bare(o, bare_stdin);
    us = micros(Clock::now() - started);
    if (!r.ok) wrong(r.killed ? "bare run (killed)" : "bare run (status)", r.out);
    if (r.ok && bare_check && !r.killed && r.out != bare_expected) wrong("bare output", r.out);
    return true;
  };

  for (long n = 0;; ++n) {
    if (o.requests > 0 && n >= o.requests) break;
    if (o.requests <= 0 &&
        std::chrono::duration<double>(Clock::now() - start).count() >= o.seconds) {
      break;
    }
    request.id = static_cast<std::uint64_t>(n + 1);
    // Rotate the order, so that no measurement always meets a warmer (or
    // colder) machine than the others.
    std::vector<int> order = {0};
    if (http) order.push_back(1);
    if (bare) order.push_back(2);
    std::rotate(order.begin(), order.begin() + static_cast<long>(n % order.size()), order.end());
    long long us[3] = {0, 0, 0};
    for (int what : order) {
      bool ok = what == 0   ? worker_round_trip(us[0])
                : what == 1 ? http_round_trip(us[1])
                            : bare_run(us[2]);
      if (!ok) {
        stop_worker(pid, fd);
        return 1;
      }
    }
    std::printf("sample worker=%lld", us[0]);
    if (http) std::printf(" http=%lld", us[1]);
    if (bare) std::printf(" bare=%lld", us[2]);
    std::printf("\n");
  }
  std::fflush(stdout);
  int status = stop_worker(pid, fd);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::cerr << "cjs-bench-worker-client: the worker ended with status " << status << "\n";
    return 1;
  }
  if (failures > 0) {
    std::cerr << "cjs-bench-worker-client: " << failures << " wrong answers\n";
    return 1;
  }
  return 0;
}
