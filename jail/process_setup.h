// What every process that runs sandboxes (codejail-worker, codejail-run)
// sets up for itself before its first run.
#pragma once

namespace cjs::jail {

// Ignores SIGPIPE (a sandbox that dies while we write its stdin must not
// kill us), raises the soft RLIMIT_NOFILE to the hard one (the exec-once
// scheme places a descriptor at 1023), and forbids this process any
// outbound connection (os/egress_lock.h), logging when that is impossible.
void prepare_runner_process();

}  // namespace cjs::jail
