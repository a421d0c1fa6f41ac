// Kernel features some tests depend on, probed on this host in an
// unconfined forked child (never guessed from version numbers), so that each
// test asserts the outcome that is right for the host it runs on and says
// which case ran. test/README.md lists every host-dependent test.
#pragma once

#include <string>

namespace cjs::test {

// Whether this kernel runs i386 system calls (`int 0x80` from a 64-bit
// process). Kernels built without IA32_EMULATION, or booted with
// ia32_emulation=0, fault instead (SIGSEGV). Probed once per process.
//
// CJS_TEST_ASSUME_NO_I386_ABI=1 skips the probe and answers false, so the
// "no i386 ABI" branch of the tests can be exercised on a host that has it.
bool host_has_i386_abi();

// One line for test output: "i386 ABI: present (probed)", "i386 ABI: absent
// (probed: int 0x80 faults with SIGSEGV)" or "... absent (simulated by
// CJS_TEST_ASSUME_NO_I386_ABI=1)".
std::string describe_i386_abi();

// Whether the no-i386 branch was forced by CJS_TEST_ASSUME_NO_I386_ABI.
bool i386_abi_absence_simulated();

// A deny test that cannot fail on this host even with confinement off (for
// example: the kernel refuses the attack by itself) declares it here. The
// sabotage run (test/attacks/sabotage_check) passes a file name in
// CJS_TEST_NOT_APPLICABLE_FILE and reports such a test as "not applicable
// here" instead of counting it as proven; elsewhere this does nothing.
void declare_not_applicable_under_sabotage(const std::string& test_name, const std::string& reason);

}  // namespace cjs::test
