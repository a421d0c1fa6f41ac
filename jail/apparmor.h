// AppArmor layer: when the kernel has AppArmor, the interpreter is switched
// into the sandbox profile from profiles/ at exec (aa_change_onexec). It is
// one layer among several; the others hold without it. Config
// `require_apparmor` makes its absence fatal (the startup probes fail).
#pragma once

#include <string>

namespace cjs::jail {

// The profile the sandboxed interpreter runs under (profiles/codejail-service-sandbox).
inline constexpr const char* kSandboxProfile = "codejail-service-sandbox";

// Whether the kernel has AppArmor enabled, with a reason when not.
bool apparmor_enabled(std::string* reason);

// In the child, before exec. Returns 0 or an errno.
int apparmor_change_onexec(const char* profile);

}  // namespace cjs::jail
