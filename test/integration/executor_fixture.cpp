#include "executor_fixture.h"

#include <catch2/catch.hpp>

#include <dirent.h>
#include <pwd.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include "common/json_parse.h"
#include "common/json_render.h"
#include "common/payload.h"

namespace cjs::itest {

Config test_config() { return default_config(); }

Config config_with(const std::function<void(Config&)>& tweak) {
  Config config = test_config();
  tweak(config);
  return config;
}

Config config_with_limits(const std::function<void(Limits&)>& tweak) {
  Config config = test_config();
  tweak(config.limits);
  return config;
}

std::string payload_json(std::string_view code, std::string_view globals_json,
                         const RunArgs& args) {
  std::string out = "{\"code\":" + json::render_ascii(json::Value(std::string(code))) +
                    ",\"globals_dict\":" + std::string(globals_json);
  if (!args.python_path.empty()) {
    out += ",\"python_path\":[";
    for (std::size_t i = 0; i < args.python_path.size(); ++i) {
      if (i > 0) out += ",";
      out += json::render_ascii(json::Value(args.python_path[i]));
    }
    out += "]";
  }
  if (args.limit_overrides_context) {
    out += ",\"limit_overrides_context\":" +
           json::render_ascii(json::Value(*args.limit_overrides_context));
  }
  out += "}";
  return out;
}

Execution execute(std::string_view code, std::string_view globals_json, const RunArgs& args) {
  std::vector<std::string> names;
  for (const auto& f : args.files) names.push_back(f.name);
  const std::string text = payload_json(code, globals_json, args);
  PayloadCheck check = check_payload(text, names);
  INFO("payload: " << text.substr(0, 500));
  INFO("refusal: " << check.error.message);
  REQUIRE(check.payload.has_value());
  jail::Executor executor(args.config ? *args.config : test_config());
  Execution result;
  const auto start = std::chrono::steady_clock::now();
  result.report = executor.execute(*check.payload, args.files);
  result.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

std::string run(std::string_view code, std::string_view globals_json, const RunArgs& args) {
  return execute(code, globals_json, args).report.body;
}

json::Object parse_body(const std::string& body) {
  json::ParseResult parsed = json::parse(body);
  INFO("body: " << body.substr(0, 2000));
  INFO("parse error: " << parsed.error.message);
  REQUIRE(parsed.value.has_value());
  REQUIRE(parsed.value->is_object());
  return parsed.value->as_object();
}

json::Object globals_of(const std::string& body) {
  json::Object object = parse_body(body);
  const json::Value* globals = json::find_member(object, "globals_dict");
  INFO("body: " << body.substr(0, 2000));
  REQUIRE(globals != nullptr);
  REQUIRE(globals->is_object());
  return globals->as_object();
}

std::optional<std::string> emsg_of(const std::string& body) {
  json::Object object = parse_body(body);
  const json::Value* emsg = json::find_member(object, "emsg");
  if (emsg == nullptr) return std::nullopt;
  INFO("body: " << body.substr(0, 2000));
  REQUIRE(emsg->is_string());
  return emsg->as_string();
}

std::optional<std::string> global_json(const std::string& body, std::string_view key) {
  json::Object globals = globals_of(body);
  const json::Value* value = json::find_member(globals, key);
  if (value == nullptr) return std::nullopt;
  return json::render_api(*value);
}

std::vector<std::string> global_keys(const std::string& body) {
  std::vector<std::string> keys;
  for (const auto& member : globals_of(body)) keys.push_back(member.first);
  return keys;
}

std::string normalize_sandbox_dir(std::string text) {
  static const std::regex kDir("/tmp/codejail-[a-z0-9_]{8}");
  return std::regex_replace(text, kDir, "/tmp/codejail-XXXXXXXX");
}

uid_t sandbox_uid() {
  // The tests run as root with the default slot 0: runs use base + 0.
  REQUIRE(geteuid() == 0);
  return test_config().sandbox_uid_base;
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
    put16(central, 0);  // extra
    put16(central, 0);  // comment
    put16(central, 0);  // disk
    put16(central, 0);  // internal attributes
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

ScratchDir::ScratchDir(mode_t mode) {
  char tmpl[] = "/tmp/cjs-itest-XXXXXX";
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

namespace {

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

std::string read_small_file(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

}  // namespace

std::vector<pid_t> processes_named(std::string_view comm) {
  std::vector<pid_t> found;
  for (pid_t pid : all_pids()) {
    std::string name = read_small_file("/proc/" + std::to_string(pid) + "/comm");
    if (!name.empty() && name.back() == '\n') name.pop_back();
    if (name == comm) found.push_back(pid);
  }
  return found;
}

namespace {

// Real uid and parent pid from /proc/PID/status; false if the process is gone.
bool uid_and_parent(pid_t pid, long& uid, long& ppid) {
  std::istringstream status(read_small_file("/proc/" + std::to_string(pid) + "/status"));
  std::string line;
  bool got_uid = false, got_ppid = false;
  while (std::getline(status, line)) {
    if (line.rfind("PPid:", 0) == 0) {
      ppid = std::strtol(line.c_str() + 5, nullptr, 10);
      got_ppid = true;
    } else if (line.rfind("Uid:", 0) == 0) {
      uid = std::strtol(line.c_str() + 4, nullptr, 10);
      got_uid = true;
    }
  }
  return got_uid && got_ppid;
}

}  // namespace

std::vector<pid_t> descendants_of_uid(uid_t uid) {
  std::map<pid_t, pid_t> parent;
  std::vector<pid_t> candidates;
  for (pid_t pid : all_pids()) {
    long u = -1, pp = -1;
    if (!uid_and_parent(pid, u, pp)) continue;
    parent[pid] = static_cast<pid_t>(pp);
    if (u == static_cast<long>(uid)) candidates.push_back(pid);
  }
  const pid_t self = getpid();
  std::vector<pid_t> found;
  for (pid_t pid : candidates) {
    pid_t p = pid;
    for (int depth = 0; depth < 4096 && p > 1; ++depth) {
      auto it = parent.find(p);
      if (it == parent.end()) break;
      p = it->second;
      if (p == self) {
        found.push_back(pid);
        break;
      }
    }
  }
  return found;
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

}  // namespace cjs::itest
