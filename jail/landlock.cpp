#include "jail/landlock.h"

#include <elf.h>
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstddef>

#include "os/landlock_syscalls.h"

namespace cjs::jail {
namespace {

using RulesetAttr = os::LandlockRulesetAttr;

// The newest ABI whose rights this file knows; newer kernels get these.
constexpr int kNewestKnownAbi = 7;

constexpr std::uint64_t kFsRightsAbi1 =
    LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_READ_FILE |
    LANDLOCK_ACCESS_FS_READ_DIR | LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE |
    LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG |
    LANDLOCK_ACCESS_FS_MAKE_SOCK | LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_BLOCK |
    LANDLOCK_ACCESS_FS_MAKE_SYM;

// Rights that mean something on a file; everything else only applies to a
// directory, and the kernel rejects it on a file rule with EINVAL.
constexpr std::uint64_t kFileRights = LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE |
                                      LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_TRUNCATE |
                                      LANDLOCK_ACCESS_FS_IOCTL_DEV;

constexpr std::uint64_t kReadTree = LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR;

// What an executable needs: a rule carrying this gets its ELF loader too.
constexpr std::uint64_t kExecRights = LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_READ_FILE;

std::uint64_t fs_rights_for_abi(int abi) {
  if (abi < 1) return 0;
  std::uint64_t rights = kFsRightsAbi1;
  if (abi >= 2) rights |= LANDLOCK_ACCESS_FS_REFER;
  if (abi >= 3) rights |= LANDLOCK_ACCESS_FS_TRUNCATE;
  if (abi >= 5) rights |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
  return rights;
}

// The kernel rejects fields it does not know unless they are left out.
std::size_t ruleset_attr_size(int abi) {
  if (abi >= 6) return sizeof(RulesetAttr);
  if (abi >= 4) return offsetof(RulesetAttr, scoped);
  return offsetof(RulesetAttr, handled_access_net);
}

// Closes fd without clobbering the errno the caller is about to report.
void close_keep_errno(int fd) {
  int saved = errno;
  close(fd);
  errno = saved;
}

// Adds a path-beneath rule for an O_PATH descriptor. Directory-only rights
// are dropped for non-directories. Returns 0 or an errno.
int add_fd_rule(int ruleset_fd, int path_fd, std::uint64_t access, bool* is_regular) {
  struct stat st;
  if (fstat(path_fd, &st) != 0) return errno;
  if (is_regular != nullptr) *is_regular = S_ISREG(st.st_mode);
  if (!S_ISDIR(st.st_mode)) access &= kFileRights;
  if (access == 0) return 0;  // the kernel refuses an empty rule (ENOMSG)
  landlock_path_beneath_attr attr{};
  attr.allowed_access = access;
  attr.parent_fd = path_fd;
  if (os::landlock_add_path_rule(ruleset_fd, attr) != 0) {
    return errno;
  }
  return 0;
}

bool pread_full(int fd, void* buf, std::size_t size, off_t offset) {
  auto* out = static_cast<char*>(buf);
  while (size > 0) {
    ssize_t n = pread(fd, out, size, offset);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    out += n;
    size -= static_cast<std::size_t>(n);
    offset += n;
  }
  return true;
}

// Copies the PT_INTERP path of the 64-bit ELF at `path` into buf. Returns
// false for static binaries, non-ELF files and anything malformed.
// Async-signal-safe: fixed buffers, pread only.
bool read_elf_loader(const char* path, char* buf, std::size_t size) {
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) return false;
  bool found = false;
  Elf64_Ehdr eh;
  if (pread_full(fd, &eh, sizeof eh, 0) && eh.e_ident[EI_MAG0] == ELFMAG0 &&
      eh.e_ident[EI_MAG1] == ELFMAG1 && eh.e_ident[EI_MAG2] == ELFMAG2 &&
      eh.e_ident[EI_MAG3] == ELFMAG3 && eh.e_ident[EI_CLASS] == ELFCLASS64 &&
      eh.e_phentsize == sizeof(Elf64_Phdr)) {
    for (unsigned i = 0; i < eh.e_phnum && !found; ++i) {
      Elf64_Phdr ph;
      off_t at = static_cast<off_t>(eh.e_phoff + i * sizeof(Elf64_Phdr));
      if (!pread_full(fd, &ph, sizeof ph, at)) break;
      if (ph.p_type != PT_INTERP) continue;
      if (ph.p_filesz < 2 || ph.p_filesz > size) break;
      if (!pread_full(fd, buf, ph.p_filesz, static_cast<off_t>(ph.p_offset))) break;
      buf[ph.p_filesz - 1] = '\0';  // PT_INTERP includes its NUL; enforce it
      found = buf[0] == '/';
    }
  }
  close(fd);
  return found;
}

// Executing a dynamically linked file also opens its loader (PT_INTERP) for
// execution, which Landlock checks like the file itself: without this, an
// execute right on the interpreter alone still fails with EACCES.
int add_loader_rule(int ruleset_fd, const char* exe_path, std::uint64_t handled_fs) {
  char loader[PATH_MAX];
  if (!read_elf_loader(exe_path, loader, sizeof loader)) return 0;
  int fd = open(loader, O_PATH | O_CLOEXEC);
  if (fd < 0) return errno;
  int err = add_fd_rule(ruleset_fd, fd, kExecRights & handled_fs, nullptr);
  close(fd);
  return err;
}

void add_rule(LandlockPlan& plan, const std::string& path, std::uint64_t access,
              bool optional = false) {
  if (path.empty()) return;
  plan.rules.push_back(LandlockRule{path, access & plan.handled_fs, optional});
}

}  // namespace

int landlock_abi_version() {
  long abi = os::landlock_abi();
  return abi < 0 ? 0 : static_cast<int>(abi);
}

LandlockPlan plan_landlock(const LandlockLayout& layout) {
  LandlockPlan plan;
  plan.abi = landlock_abi_version();
  if (plan.abi == 0) {
    plan.degraded.push_back("no Landlock: filesystem confinement relies on mounts and uid only");
    return plan;
  }
  const int abi = plan.abi < kNewestKnownAbi ? plan.abi : kNewestKnownAbi;
  const std::string prefix = "ABI " + std::to_string(plan.abi) + ": ";
  plan.handled_fs = fs_rights_for_abi(abi);
  if (abi < 2) plan.degraded.push_back(prefix + "no rename or link across directories (no REFER)");
  if (abi < 3) plan.degraded.push_back(prefix + "truncate() not restricted");
  if (abi >= 4) {
    plan.handled_net = LANDLOCK_ACCESS_NET_BIND_TCP | LANDLOCK_ACCESS_NET_CONNECT_TCP;
  } else {
    plan.degraded.push_back(prefix + "no TCP network rules");
  }
  if (abi < 5) plan.degraded.push_back(prefix + "device ioctls not restricted");
  if (abi >= 6) {
    plan.scoped = LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET | LANDLOCK_SCOPE_SIGNAL;
  } else {
    plan.degraded.push_back(prefix + "abstract Unix sockets and signals not scoped");
  }

  for (const std::string& root : layout.read_exec_roots) add_rule(plan, root, kReadTree);
  add_rule(plan, layout.interpreter, kExecRights);
  for (const std::string& extra : layout.read_only_extras) {
    add_rule(plan, extra, kReadTree, /*optional=*/true);  // READ_DIR dropped for files
  }
  for (const std::string& device : layout.devices) {
    // Python opens with O_TRUNC for "w"; IOCTL_DEV stays denied.
    add_rule(
        plan, device,
        LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_TRUNCATE);
  }
  add_rule(plan, layout.sandbox_dir, kReadTree);
  // No EXECUTE and no device nodes: tmp/ holds data, never programs.
  add_rule(plan, layout.sandbox_tmp,
           kReadTree | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_REMOVE_FILE |
               LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG |
               LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_SOCK |
               LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_SYM |
               LANDLOCK_ACCESS_FS_TRUNCATE | LANDLOCK_ACCESS_FS_REFER);
  return plan;
}

int apply_landlock(const LandlockPlan& plan, int* failed_rule) {
  if (failed_rule != nullptr) *failed_rule = -1;
  if (plan.abi == 0) return 0;  // nothing to apply; plan.degraded says so

  RulesetAttr attr{plan.handled_fs, plan.handled_net, plan.scoped};
  int ruleset = os::landlock_create_ruleset(attr, ruleset_attr_size(plan.abi));
  if (ruleset < 0) return errno;

  for (std::size_t i = 0; i < plan.rules.size(); ++i) {
    const LandlockRule& rule = plan.rules[i];
    int err = 0;
    int fd = open(rule.path.c_str(), O_PATH | O_CLOEXEC);
    if (fd < 0) {
      err = errno;
      if (err == ENOENT && rule.optional) continue;
    } else {
      bool regular = false;
      err = add_fd_rule(ruleset, fd, rule.access, &regular);
      close(fd);
      if (err == 0 && regular && (rule.access & LANDLOCK_ACCESS_FS_EXECUTE) != 0) {
        err = add_loader_rule(ruleset, rule.path.c_str(), plan.handled_fs);
      }
    }
    if (err != 0) {
      if (failed_rule != nullptr) *failed_rule = static_cast<int>(i);
      close(ruleset);
      return err;
    }
  }

  if (os::landlock_restrict_self(ruleset) != 0) {
    close_keep_errno(ruleset);
    return errno;
  }
  close(ruleset);
  return 0;
}

}  // namespace cjs::jail
