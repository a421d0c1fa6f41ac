#include "test/support/test_support.h"

#include <catch2/catch.hpp>

#include <dirent.h>
#include <signal.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <sstream>

#include "common/config.h"
#include "common/json_parse.h"
#include "common/json_render.h"

namespace cjs::test {

// ------------------------------------------------------------- payloads ---

std::string payload_json(std::string_view code, std::string_view globals_json,
                         const std::vector<std::string>& python_path,
                         const std::optional<std::string>& limit_overrides_context) {
  std::string out = "{\"code\":" + json::render_ascii(json::Value(std::string(code))) +
                    ",\"globals_dict\":" + std::string(globals_json);
  if (!python_path.empty()) {
    out += ",\"python_path\":[";
    for (std::size_t i = 0; i < python_path.size(); ++i) {
      if (i > 0) out += ",";
      out += json::render_ascii(json::Value(python_path[i]));
    }
    out += "]";
  }
  if (limit_overrides_context) {
    out +=
        ",\"limit_overrides_context\":" + json::render_ascii(json::Value(*limit_overrides_context));
  }
  out += "}";
  return out;
}

ExecPayload accepted_payload(const std::string& text, const std::vector<std::string>& file_names) {
  PayloadCheck check = check_payload(text, file_names);
  INFO("payload: " << text.substr(0, 500));
  INFO("refusal: " << check.error.message);
  REQUIRE(check.payload.has_value());
  return std::move(*check.payload);
}

// --------------------------------------------------------------- bodies ---

json::Object parse_body(const std::string& body) {
  json::ParseResult parsed = json::parse(body);
  INFO("body: " << body.substr(0, 2000));
  INFO("parse error: " << parsed.error.message);
  REQUIRE(parsed.value.has_value());
  REQUIRE(parsed.value->is_object());
  return parsed.value->as_object();
}

std::optional<std::string> emsg_of(const std::string& body) {
  json::Object object = parse_body(body);
  const json::Value* emsg = json::find_member(object, "emsg");
  if (emsg == nullptr) return std::nullopt;
  INFO("body: " << body.substr(0, 2000));
  REQUIRE(emsg->is_string());
  return emsg->as_string();
}

std::string normalize_sandbox_dir(std::string text) {
  static const std::regex kDir("/tmp/codejail-[a-z0-9_]{8}");
  return std::regex_replace(text, kDir, "/tmp/codejail-XXXXXXXX");
}

namespace {

std::uint32_t crc32(std::string_view data) {
  static const auto table = [] {
    std::array<std::uint32_t, 256> t{};
    for (std::uint32_t i = 0; i < 256; ++i) {
      std::uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  std::uint32_t c = 0xFFFFFFFFu;
  for (unsigned char b : data) c = table[(c ^ b) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

void put16(std::string& out, std::uint32_t v) {
  out += static_cast<char>(v & 0xFF);
  out += static_cast<char>((v >> 8) & 0xFF);
}
void put32(std::string& out, std::uint32_t v) {
  put16(out, v & 0xFFFF);
  put16(out, v >> 16);
}

}  // namespace

std::string make_stored_zip(const std::vector<std::pair<std::string, std::string>>& entries) {
  std::string out, central;
  const std::uint32_t dos_time = 0, dos_date = (1 << 5) | 1;  // 1980-01-01 00:00
  for (const auto& [name, content] : entries) {
    const auto offset = static_cast<std::uint32_t>(out.size());
    const std::uint32_t crc = crc32(content);
    const auto size = static_cast<std::uint32_t>(content.size());
    const auto name_len = static_cast<std::uint32_t>(name.size());
    // Local file header.
    put32(out, 0x04034b50);
    put16(out, 20);  // version needed
    put16(out, 0);   // flags
    put16(out, 0);   // method: stored
    put16(out, dos_time);
    put16(out, dos_date);
    put32(out, crc);
    put32(out, size);
    put32(out, size);
    put16(out, name_len);
    put16(out, 0);  // extra length
    out += name;
    out += content;
    // Central directory entry.
    put32(central, 0x02014b50);
    put16(central, 20);  // version made by
    put16(central, 20);  // version needed
    put16(central, 0);
    put16(central, 0);
    put16(central, dos_time);
    put16(central, dos_date);
    put32(central, crc);
    put32(central, size);
    put32(central, size);
    put16(central, name_len);
    put16(central, 0);               // extra
    put16(central, 0);               // comment
    put16(central, 0);               // disk
    put16(central, 0);               // internal attributes
    put32(central, 0100644u << 16);  // external attributes
    put32(central, offset);
    central += name;
  }
  const auto central_offset = static_cast<std::uint32_t>(out.size());
  const auto central_size = static_cast<std::uint32_t>(central.size());
  out += central;
  put32(out, 0x06054b50);
  put16(out, 0);
  put16(out, 0);
  put16(out, static_cast<std::uint32_t>(entries.size()));
  put16(out, static_cast<std::uint32_t>(entries.size()));
  put32(out, central_size);
  put32(out, central_offset);
  put16(out, 0);  // comment length
  return out;
}

// ----------------------------------------------------------- host files ---

ScratchDir::ScratchDir(mode_t mode) {
  char tmpl[] = "/tmp/cjs-test-XXXXXX";
  REQUIRE(mkdtemp(tmpl) != nullptr);
  path = tmpl;
  REQUIRE(chmod(path.c_str(), mode) == 0);
}

ScratchDir::~ScratchDir() {
  // Sandboxed code may leave mode-000 dirs behind if cleanup is broken:
  // make everything removable first.
  std::string cmd = "chmod -R u+rwx '" + path + "' 2>/dev/null; rm -rf '" + path + "'";
  (void)!std::system(cmd.c_str());
}

std::vector<std::string> ScratchDir::entries() const { return list_dir(path); }

std::vector<std::string> ScratchDir::leftovers() const {
  std::vector<std::string> names = entries();
  std::erase(names, ".codejail-root");
  return names;
}

std::vector<std::string> list_dir(const std::string& dir, std::string_view prefix) {
  std::vector<std::string> names;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return names;
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    if (name.compare(0, prefix.size(), prefix) == 0) names.push_back(name);
  }
  closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

bool path_exists(const std::string& path) {
  struct stat st {};
  return lstat(path.c_str(), &st) == 0;
}

std::string random_token(std::size_t length) {
  static constexpr std::string_view kAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::string out;
  while (out.size() < length) {
    unsigned char b = 0;
    if (getrandom(&b, 1, 0) == 1) out += kAlphabet[b % kAlphabet.size()];
  }
  return out;
}

// ------------------------------------------------------------ processes ---

std::vector<pid_t> all_pids() {
  std::vector<pid_t> pids;
  DIR* d = opendir("/proc");
  if (d == nullptr) return pids;
  while (dirent* e = readdir(d)) {
    char* end = nullptr;
    long pid = std::strtol(e->d_name, &end, 10);
    if (pid > 0 && *end == '\0') pids.push_back(static_cast<pid_t>(pid));
  }
  closedir(d);
  return pids;
}

std::vector<pid_t> processes_named(std::string_view comm) {
  std::vector<pid_t> found;
  for (pid_t pid : all_pids()) {
    std::string name = read_file("/proc/" + std::to_string(pid) + "/comm");
    if (!name.empty() && name.back() == '\n') name.pop_back();
    if (name == comm) found.push_back(pid);
  }
  return found;
}

void kill_all(const std::vector<pid_t>& pids) {
  for (pid_t pid : pids) kill(pid, SIGKILL);
}

int wait_child_code(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return kChildSignaled + WTERMSIG(status);
  return -1;
}

std::string text_of_forked_child(const std::function<std::string()>& produce) {
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    close(fds[0]);
    std::string text;
    try {
      text = produce();
    } catch (...) {
      text.clear();
    }
    for (std::size_t done = 0; done < text.size();) {
      const ssize_t n = write(fds[1], text.data() + done, text.size() - done);
      if (n <= 0) break;
      done += static_cast<std::size_t>(n);
    }
    _exit(0);
  }
  close(fds[1]);
  std::string text;
  char buf[4096];
  for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0;) text.append(buf, n);
  close(fds[0]);
  wait_child_code(pid);
  return text;
}

int sandbox_python_minor() {
  static const int minor = [] {
    const std::string command =
        Config{}.python_bin + " -E -B -c 'import sys; print(sys.version_info[1])' 2>/dev/null";
    FILE* pipe = popen(command.c_str(), "r");
    if (pipe == nullptr) return 0;
    int value = 0;
    if (std::fscanf(pipe, "%d", &value) != 1) value = 0;
    pclose(pipe);
    return value;
  }();
  return minor;
}

std::string exec_call_carets() {
  return sandbox_python_minor() >= 13 ? R"(    ~~~~^^^^^^^^^^^^^^\n)" : "";
}

std::string null_bytes_exception() {
  return sandbox_python_minor() >= 12 ? "SyntaxError" : "ValueError";
}

}  // namespace cjs::test
