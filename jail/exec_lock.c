/* libcodejail-execlock.so: preloaded (LD_PRELOAD) into the sandboxed
 * interpreter by the jail. Its constructor runs before the interpreter's
 * main() and installs a seccomp filter that refuses every execve/execveat
 * with EACCES, so the one exec the jail's own filter allows (jail/seccomp.h)
 * is spent the moment the interpreter starts: no later exec of anything,
 * whatever path or descriptor is used. It fails closed: if the filter cannot
 * be installed the process exits before any user code could run.
 *
 * C, no dependencies beyond libc, nothing else exported. */
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

__attribute__((constructor)) static void codejail_lock_exec(void) {
  struct sock_filter filter[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_execve, 2, 0),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_execveat, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EACCES & SECCOMP_RET_DATA)),
  };
  struct sock_fprog program = {sizeof filter / sizeof filter[0], filter};
  /* (The jail's own filter already kills non-native ABIs.) */
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
      prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program) != 0) {
    _exit(126);
  }
  /* The code sees the environment it was promised (api.md section 4);
   * glibc has read its tunables by now. */
  unsetenv("LD_PRELOAD");
  unsetenv("GLIBC_TUNABLES");
}
