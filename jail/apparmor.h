// AppArmor layer: when the kernel has AppArmor, the interpreter is put under
// the sandbox profile from profiles/ at exec, stacked onto whatever confines
// the service (aa_stack_onexec). It is one layer among several; the others
// hold without it. Config `require_apparmor` makes its absence fatal (the
// startup probes fail).
#pragma once

#include <string>

namespace cjs::jail {

// The profile the sandboxed interpreter runs under (profiles/codejail-service-sandbox).
inline constexpr const char* kSandboxProfile = "codejail-service-sandbox";

// Whether the kernel has AppArmor enabled, with a reason when not.
bool apparmor_enabled(std::string* reason);

// In the child, before exec: at the next exec, stack `profile` onto the
// current confinement. The interpreter child has set no_new_privs by then,
// and under no_new_privs AppArmor refuses a plain transition away from a
// confining profile (aa_change_onexec fails at exec with EPERM) but allows a
// stack, whose result can only be narrower. On an unconfined task the stack
// is the profile alone, so this equals aa_change_onexec there. Returns 0 or
// an errno.
int apparmor_stack_onexec(const char* profile);

// Whether `profile` is loaded. Reads the kernel's profile list; where that
// list is root-only (an unprivileged service, e.g. in a container), asks the
// kernel instead: a forked child requests the stack, which fails with ENOENT
// for an unknown profile, and exits without exec. Sets `reason` when not.
bool apparmor_profile_loaded(const char* profile, std::string* reason);

}  // namespace cjs::jail
