// The sabotage switch (sandbox.md "Sabotage test"): turns the confinement
// layers off so the attack suite can prove its deny tests FAIL without them.
//
// It exists only in the test-only library variant cjs_jail_sabotageable
// (compiled with CJS_SABOTAGE_SWITCH); production binaries link cjs_jail,
// where sabotage_requested() is constant false and no configuration,
// environment or request can turn confinement off.
//
// Sabotaged runs keep what the reference keeps without its AppArmor profile:
// a separate uid, rlimits, a clean environment and closed descriptors. They
// drop namespaces, the mount view, tmpfs, no_new_privs/capability hardening,
// Landlock, seccomp, cgroups and AppArmor.
#pragma once

namespace cjs::jail {

#ifdef CJS_SABOTAGE_SWITCH
// Set CJS_TEST_SABOTAGE_CONFINEMENT=1 in the test process's environment.
bool sabotage_requested();
#else
constexpr bool sabotage_requested() { return false; }
#endif

}  // namespace cjs::jail
