// Landlock layer: the sandboxed interpreter may read/execute only its own
// files, read its sandbox dir, and write only the sandbox's tmp/. Denials
// surface as EACCES, as the reference's AppArmor profile produced them.
//
// Built in two steps: plan_landlock() before fork (allocates), and
// apply_landlock() in the child after the mount view is in place (system
// calls only). The highest ABI the kernel offers is used; older ABIs lose
// the rights they lack, explicitly (LandlockPlan::degraded).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace cjs::jail {

struct LandlockRule {
  std::string path;       // as seen inside the sandbox's mount view
  std::uint64_t access;   // LANDLOCK_ACCESS_FS_* bits (already masked to the ABI)
  bool optional = false;  // a missing path (ENOENT) is skipped, not an error
};

struct LandlockPlan {
  int abi = 0;                    // 0: Landlock unavailable
  std::uint64_t handled_fs = 0;   // every FS right the ABI knows: all denied unless granted
  std::uint64_t handled_net = 0;  // ABI >= 4: TCP bind/connect, all denied
  std::uint64_t scoped = 0;       // ABI >= 6: abstract Unix sockets and signals scoped
  std::vector<LandlockRule> rules;
  std::vector<std::string> degraded;  // human-readable list of protections the ABI lacks
};

// What the sandbox may touch, in mount-view paths.
struct LandlockLayout {
  std::vector<std::string> read_exec_roots;   // e.g. /usr, the venv: read files + list dirs
  std::string interpreter;                    // the real interpreter binary: execute
  std::vector<std::string> read_only_extras;  // optional files/dirs to read, e.g. /etc/ld.so.cache
  std::vector<std::string> devices;           // e.g. /dev/null: read + write, no ioctl
  std::string sandbox_dir;                    // read files + list
  std::string sandbox_tmp;                    // full read/write (no execute, no device nodes)
};

// The kernel's Landlock ABI version (0 when unsupported or disabled).
int landlock_abi_version();

LandlockPlan plan_landlock(const LandlockLayout& layout);

// Creates the ruleset, adds the rules, and restricts the calling thread (the
// caller must already have set no_new_privs). Async-signal-safe: no
// allocation. Returns 0 or an errno; *failed_rule is the index of the rule
// that failed, or -1.
int apply_landlock(const LandlockPlan& plan, int* failed_rule);

}  // namespace cjs::jail
