// Attack catalogue items 33-36 (sandbox.md): no network of any kind. The
// denials must be the sandbox's own (EACCES from seccomp / Landlock, or the
// run's empty network namespace), not merely the test namespace's missing
// route: the assertions below would not hold for unconfined code.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "attack_fixture.h"

using namespace cjs::attack;

namespace {

// A listening socket of the test process; closed on destruction.
struct Listener {
  int fd = -1;
  ~Listener() {
    if (fd >= 0) close(fd);
  }
  // Whether a connection is waiting (accept never blocks).
  bool has_connection() const {
    int c = accept4(fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (c < 0) return false;
    close(c);
    return true;
  }
};

Listener tcp_listener(int& port) {
  Listener l;
  l.fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  REQUIRE(l.fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  REQUIRE(bind(l.fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(listen(l.fd, 16) == 0);
  socklen_t len = sizeof addr;
  REQUIRE(getsockname(l.fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  port = ntohs(addr.sin_port);
  return l;
}

// A Unix listener at `path`; a leading '@' means the abstract namespace.
Listener unix_listener(const std::string& path) {
  Listener l;
  l.fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  REQUIRE(l.fd >= 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  REQUIRE(path.size() < sizeof addr.sun_path);
  std::memcpy(addr.sun_path, path.data(), path.size());
  socklen_t len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size());
  if (path[0] == '@') {
    addr.sun_path[0] = '\0';
  } else {
    ++len;  // the NUL
  }
  REQUIRE(bind(l.fd, reinterpret_cast<sockaddr*>(&addr), len) == 0);
  if (path[0] != '@') REQUIRE(chmod(path.c_str(), 0777) == 0);
  REQUIRE(listen(l.fd, 16) == 0);
  return l;
}

constexpr const char* kEacces = "PermissionError: [Errno 13] Permission denied";

}  // namespace

TEST_CASE("33: HTTP to the internet and DNS lookups fail inside the sandbox", "[attack][deny]") {
  auto executor = make_executor(attack_config(), slot_for(33));
  // Only run inside the test's loopback-only namespace (make_executor checks).
  Outcome out = run(executor, kPyAttempt +
                                  "import socket, urllib.request\n"
                                  "def fetch(url):\n"
                                  "    urllib.request.urlopen(url, timeout=1).read()\n"
                                  "http_ip = attempt(fetch, 'http://93.184.215.14/')\n"
                                  "http_name = attempt(fetch, 'http://example.com/')\n"
                                  "dns = attempt(socket.getaddrinfo, 'example.com', 80)\n"
                                  "dns_numeric = attempt(socket.getaddrinfo, '127.0.0.1', 80)\n"
                                  "hostname = socket.gethostname()\n");
  INFO("body: " << out.body());
  CHECK(global_str(out.body(), "http_ip") ==
        "URLError: <urlopen error [Errno 13] Permission denied>");
  CHECK(global_str(out.body(), "http_name") ==
        "URLError: <urlopen error [Errno -3] Temporary failure in name resolution>");
  CHECK(global_str(out.body(), "dns") ==
        "gaierror: [Errno -3] Temporary failure in name resolution");
  CHECK(global_str(out.body(), "dns_numeric") == "ok");
  CHECK(global_str(out.body(), "hostname") == "codejail");
  expect_clean_next_run(executor);
}

TEST_CASE("34: sockets other than AF_UNIX cannot even be created", "[attack][deny]") {
  auto executor = make_executor(attack_config(), slot_for(34));
  Outcome out =
      run(executor,
          kPyAttempt +
              "import socket\n"
              "def make(*args):\n"
              "    socket.socket(*args).close()\n"
              "inet_stream = attempt(make, socket.AF_INET, socket.SOCK_STREAM)\n"
              "inet_dgram = attempt(make, socket.AF_INET, socket.SOCK_DGRAM)\n"
              "inet6_stream = attempt(make, socket.AF_INET6, socket.SOCK_STREAM)\n"
              "inet6_dgram = attempt(make, socket.AF_INET6, socket.SOCK_DGRAM)\n"
              "inet_icmp = attempt(make, socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_ICMP)\n"
              "netlink_raw = attempt(make, socket.AF_NETLINK, socket.SOCK_RAW, 0)\n"
              "packet = attempt(make, socket.AF_PACKET, socket.SOCK_RAW, 0)\n"
              "vsock = attempt(make, socket.AF_VSOCK, socket.SOCK_STREAM)\n"
              "pair_inet = attempt(socket.socketpair, socket.AF_INET)\n"
              "unix_stream = attempt(make, socket.AF_UNIX, socket.SOCK_STREAM)\n"
              "unix_pair = attempt(socket.socketpair)\n");
  INFO("body: " << out.body());
  for (const char* key : {"inet_stream", "inet_dgram", "inet6_stream", "inet6_dgram", "inet_icmp",
                          "netlink_raw", "packet", "vsock", "pair_inet"}) {
    INFO("socket " << key);
    CHECK(global_str(out.body(), key) == kEacces);
  }
  CHECK(global_str(out.body(), "unix_stream") == "ok");
  CHECK(global_str(out.body(), "unix_pair") == "ok");
  expect_clean_next_run(executor);
}

TEST_CASE("35: a TCP listener on the service's loopback is unreachable", "[attack][deny]") {
  int port = 0;
  Listener listener = tcp_listener(port);
  auto executor = make_executor(attack_config(), slot_for(35));
  Outcome out = run(executor,
                    kPyAttempt +
                        "import socket\n"
                        "def connect(host):\n"
                        "    socket.create_connection((host, port), timeout=1).close()\n"
                        "v4 = attempt(connect, '127.0.0.1')\n"
                        "name = attempt(connect, 'localhost')\n",
                    R"({"port": )" + std::to_string(port) + "}");
  INFO("body: " << out.body());
  CHECK(global_str(out.body(), "v4") == kEacces);
  // /etc/hosts is unreadable, so even "localhost" needs DNS, which needs a socket.
  CHECK(global_str(out.body(), "name") ==
        "gaierror: [Errno -3] Temporary failure in name resolution");
  CHECK_FALSE(listener.has_connection());
  expect_clean_next_run(executor);
}

TEST_CASE("36: Unix sockets bind only inside tmp/ and reach nothing outside the run",
          "[attack][deny]") {
  const std::string token = random_token(10);
  const std::string host_path = "/tmp/cjs-attack-" + token + "-listen.sock";
  const std::string bind_path = "/tmp/cjs-attack-" + token + "-bind.sock";
  Listener path_listener = unix_listener(host_path);
  Listener abstract_listener = unix_listener("@cjs-attack-" + token);
  auto executor = make_executor(attack_config(), slot_for(36));
  Outcome out = run(executor, kPyAttempt +
                                  "import socket\n"
                                  "def bind(path):\n"
                                  "    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)\n"
                                  "    s.bind(path)\n"
                                  "    s.close()\n"
                                  "def connect(path):\n"
                                  "    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)\n"
                                  "    s.settimeout(1)\n"
                                  "    s.connect(path)\n"
                                  "    s.close()\n"
                                  "in_tmp = attempt(bind, 'tmp/s.sock')\n"
                                  "in_slash_tmp = attempt(bind, " +
                                  py_str(bind_path) +
                                  ")\n"
                                  "in_sandbox_dir = attempt(bind, 's.sock')\n"
                                  "host_socket = attempt(connect, " +
                                  py_str(host_path) +
                                  ")\n"
                                  "abstract_service = attempt(connect, '\\0cjs-attack-" +
                                  token +
                                  "')\n"
                                  "dgram_service = attempt(lambda: socket.socket(socket.AF_UNIX, "
                                  "socket.SOCK_DGRAM).sendto(b'x', '\\0cjs-attack-" +
                                  token + "'))\n");
  const bool path_connected = path_listener.has_connection();
  const bool abstract_connected = abstract_listener.has_connection();
  ::unlink(host_path.c_str());
  const bool bound_on_host = path_exists(bind_path);
  ::unlink(bind_path.c_str());
  INFO("body: " << out.body());
  CHECK(global_str(out.body(), "in_tmp") == "ok");
  CHECK(global_str(out.body(), "in_slash_tmp") == kEacces);
  CHECK(global_str(out.body(), "in_sandbox_dir") == kEacces);
  CHECK(global_str(out.body(), "host_socket") ==
        "FileNotFoundError: [Errno 2] No such file or directory");
  CHECK(global_str(out.body(), "abstract_service") ==
        "ConnectionRefusedError: [Errno 111] Connection refused");
  CHECK(global_str(out.body(), "dgram_service") ==
        "ConnectionRefusedError: [Errno 111] Connection refused");
  CHECK_FALSE(path_connected);
  CHECK_FALSE(abstract_connected);
  CHECK_FALSE(bound_on_host);
  expect_clean_next_run(executor);
}
