// The sandbox's seccomp policy for each architecture it is written for,
// built here whatever the host is (libseccomp generates a filter for a
// foreign architecture; nothing is loaded). The aarch64 program must be the
// x86_64 one, call for call and rule for rule, less the old calls aarch64
// lacks, each of whose replacements is allowed; both must kill other ABIs.
#include <catch2/catch.hpp>

#include <linux/seccomp.h>
#include <seccomp.h>

#include <cstdint>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "jail/seccomp.h"

namespace {

using cjs::jail::kSeccompArchAarch64;
using cjs::jail::kSeccompArchX86_64;

// The calls on the list that aarch64 never had, and what its libc calls
// instead ("" for arch_prctl: aarch64 keeps its TLS pointer in a register).
const std::map<std::string, std::string> kAbsentOnAarch64 = {
    {"access", "faccessat"},    {"alarm", "setitimer"}, {"arch_prctl", ""},
    {"chmod", "fchmodat"},      {"dup2", "dup3"},       {"epoll_wait", "epoll_pwait"},
    {"getpgrp", "getpgid"},     {"link", "linkat"},     {"lstat", "newfstatat"},
    {"mkdir", "mkdirat"},       {"mknod", "mknodat"},   {"open", "openat"},
    {"pause", "rt_sigsuspend"}, {"pipe", "pipe2"},      {"poll", "ppoll"},
    {"readlink", "readlinkat"}, {"rename", "renameat"}, {"rmdir", "unlinkat"},
    {"select", "pselect6"},     {"stat", "newfstatat"}, {"symlink", "symlinkat"},
    {"time", "clock_gettime"},  {"unlink", "unlinkat"}, {"vfork", "clone"},
};

struct Block {
  int nr = 0;
  std::string rules;  // the block's lines, the syscall number taken out
};

// libseccomp's PFC listing as name -> block. A block starts at
//   # filter for syscall "NAME" (NR) [priority: P]
// and runs to the next one or to the default action.
std::map<std::string, Block> blocks(const std::string& pfc) {
  std::map<std::string, Block> out;
  std::istringstream in(pfc);
  std::string line;
  Block* current = nullptr;
  const std::string header = "  # filter for syscall \"";
  while (std::getline(in, line)) {
    if (line.rfind(header, 0) == 0) {
      const auto name_end = line.find('"', header.size());
      const std::string name = line.substr(header.size(), name_end - header.size());
      REQUIRE(out.count(name) == 0);
      current = &out[name];
      current->nr = std::stoi(line.substr(line.find('(', name_end) + 1));
      current->rules = line.substr(line.find('['));
    } else if (line.rfind("  # default action", 0) == 0) {
      current = nullptr;
    } else if (current != nullptr) {
      const std::string nr = std::to_string(current->nr);
      if (const auto at = line.find("$syscall == " + nr); at != std::string::npos) {
        line.replace(at + 12, nr.size(), "NR");
      }
      current->rules += "\n" + line;
    }
  }
  return out;
}

bool has_x32_check(const std::vector<sock_filter>& prog) {
  for (const sock_filter& insn : prog) {
    if (insn.code == (BPF_JMP | BPF_JGE | BPF_K) && insn.k == 0x40000000U) return true;
  }
  return false;
}

// "seccomp_data.arch != arch -> kill the process" as the first test.
bool kills_other_arches(const std::vector<sock_filter>& prog, std::uint32_t arch) {
  if (prog.size() < 3 || prog[0].code != (BPF_LD | BPF_W | BPF_ABS) || prog[0].k != 4) {
    return false;
  }
  if (prog[1].code != (BPF_JMP | BPF_JEQ | BPF_K) || prog[1].k != arch) return false;
  const sock_filter& mismatch = prog.at(2 + prog[1].jf);
  return mismatch.code == (BPF_RET | BPF_K) && mismatch.k == SECCOMP_RET_KILL_PROCESS;
}

}  // namespace

TEST_CASE("seccomp policy builds for x86_64 and aarch64, each killing foreign ABIs", "[seccomp]") {
  const auto x86 = cjs::jail::build_sandbox_seccomp(kSeccompArchX86_64);
  const auto arm = cjs::jail::build_sandbox_seccomp(kSeccompArchAarch64);
  CHECK(x86.instructions.size() <= BPF_MAXINSNS);
  CHECK(arm.instructions.size() <= BPF_MAXINSNS);
  // i386 calls carry AUDIT_ARCH_I386 and AArch32 calls AUDIT_ARCH_ARM:
  // both fail the arch test. x32 shares x86_64's arch value and needs its
  // own test; aarch64 has no such second ABI.
  CHECK(kills_other_arches(x86.instructions, AUDIT_ARCH_X86_64));
  CHECK(kills_other_arches(arm.instructions, AUDIT_ARCH_AARCH64));
  CHECK(has_x32_check(x86.instructions));
  CHECK_FALSE(has_x32_check(arm.instructions));
  // The native policy is the one the jail loads.
  const auto native = cjs::jail::build_sandbox_seccomp();
  CHECK(native.instructions.size() ==
        cjs::jail::build_sandbox_seccomp(cjs::jail::kSeccompNativeArch).instructions.size());
  CHECK_THROWS_AS(cjs::jail::build_sandbox_seccomp(AUDIT_ARCH_ARM), std::invalid_argument);
  CHECK_THROWS_AS(cjs::jail::build_sandbox_seccomp(AUDIT_ARCH_I386), std::invalid_argument);
}

TEST_CASE("seccomp policy leaves out only the calls aarch64 lacks", "[seccomp]") {
  CHECK(cjs::jail::sandbox_seccomp_absent_syscalls(kSeccompArchX86_64).empty());
  const auto absent = cjs::jail::sandbox_seccomp_absent_syscalls(kSeccompArchAarch64);
  std::set<std::string> got(absent.begin(), absent.end());
  std::set<std::string> expected;
  for (const auto& [name, replacement] : kAbsentOnAarch64) {
    expected.insert(name);
    // Really absent there, and present on x86_64.
    CHECK(seccomp_syscall_resolve_name_arch(SCMP_ARCH_AARCH64, name.c_str()) < 0);
    CHECK(seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86_64, name.c_str()) >= 0);
  }
  CHECK(got == expected);
}

TEST_CASE("seccomp policy for aarch64 is x86_64's, rule for rule, with aarch64's numbers",
          "[seccomp]") {
  const std::string arm_pfc = cjs::jail::describe_sandbox_seccomp(kSeccompArchAarch64);
  const auto x86 = blocks(cjs::jail::describe_sandbox_seccomp(kSeccompArchX86_64));
  const auto arm = blocks(arm_pfc);
  // Outside the list EPERM; another ABI (AArch32) kills the process.
  CHECK(arm_pfc.find("  # default action\n  action ERRNO(1);\n") != std::string::npos);
  CHECK(arm_pfc.find("# invalid architecture action\naction KILL_PROCESS;\n") != std::string::npos);
  REQUIRE(x86.size() > 100);
  CHECK(x86.size() == arm.size() + kAbsentOnAarch64.size());
  for (const auto& [name, block] : x86) {
    INFO(name);
    CHECK(block.nr == seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86_64, name.c_str()));
    if (kAbsentOnAarch64.count(name) != 0) {
      CHECK(arm.count(name) == 0);
      continue;
    }
    REQUIRE(arm.count(name) == 1);
    CHECK(arm.at(name).nr == seccomp_syscall_resolve_name_arch(SCMP_ARCH_AARCH64, name.c_str()));
    CHECK(arm.at(name).rules == block.rules);
  }
  // Each left-out call's replacement is allowed outright.
  for (const auto& [name, replacement] : kAbsentOnAarch64) {
    if (replacement.empty()) continue;
    INFO(name << " -> " << replacement);
    REQUIRE(arm.count(replacement) == 1);
    CHECK(arm.at(replacement).rules.find("action ALLOW") != std::string::npos);
    // No argument conditions, except clone's (no namespace flags).
    const bool unconditional = arm.at(replacement).rules.find("$a") == std::string::npos;
    CHECK((unconditional || replacement == "clone"));
  }
  // The refusals with an answer of their own, on aarch64 too.
  auto action_of = [&arm](const std::string& name) {
    REQUIRE(arm.count(name) == 1);
    return arm.at(name).rules;
  };
  CHECK(action_of("execve").find("action ERRNO(13)") != std::string::npos);
  CHECK(action_of("execveat").find("action ERRNO(13)") != std::string::npos);
  CHECK(action_of("socket").find("action ERRNO(13)") != std::string::npos);
  for (const char* name : {"clone3", "openat2", "fchmodat2", "pidfd_open"}) {
    CHECK(action_of(name).find("action ERRNO(38)") != std::string::npos);
  }
  // Calls outside the list (namespaces, mounts, ptrace, bpf) are in no
  // block: the default action refuses them.
  for (const char* name :
       {"unshare", "setns", "mount", "ptrace", "bpf", "keyctl", "memfd_create"}) {
    CHECK(arm.count(name) == 0);
  }
}
