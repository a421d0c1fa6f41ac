#!/usr/bin/python3
"""System calls of the sandboxed processes in an `strace -f -o` trace.

    sandboxed_syscalls.py TRACE...

Trace with `strace -f --decode-pids=pidns -o TRACE ...` (codejail-run, or a
test binary). A process counts as sandboxed from its execveat(1023, "", ...,
AT_EMPTY_PATH) (the interpreter's one exec, jail/seccomp.h) on, and so do
the processes it and they create (followed through clone, clone3, fork and
vfork results, which --decode-pids=pidns translates from the run's pid
namespace). Prints "name count errors", errors being the refusals seen
(EPERM/EACCES/ENOSYS): what the filter refused.
"""
import collections
import re
import sys

CHILD = re.compile(r"(?:<\.\.\. )?(?:clone|clone3|fork|vfork)\b.*= (\d+)"
                   r"(?: /\* (\d+) in strace's PID NS \*/)?\s*$")


def lines(path):
    for line in open(path, errors="replace"):
        m = re.match(r"^(\d+)\s+(.*)$", line)
        if m:
            yield int(m.group(1)), m.group(2)


counts = collections.Counter()
refused = collections.defaultdict(collections.Counter)
for path in sys.argv[1:]:
    # First pass: the interpreters and who created whom (a child may run
    # before its parent's clone returns in the trace).
    sandboxed, children = set(), collections.defaultdict(set)
    for pid, rest in lines(path):
        if rest.startswith('execveat(1023, ""'):
            sandboxed.add(pid)
        child = CHILD.match(rest)
        if child:
            children[pid].add(int(child.group(2) or child.group(1)))
    todo = list(sandboxed)
    while todo:
        for child in children[todo.pop()] - sandboxed:
            sandboxed.add(child)
            todo.append(child)
    # Second pass: their calls (the interpreter's from its exec on).
    exec_done = set()
    for pid, rest in lines(path):
        if rest.startswith('execveat(1023, ""'):
            exec_done.add(pid)
        if pid not in sandboxed or (pid not in exec_done and not any(
                pid in children[p] for p in sandboxed)):
            continue
        call = re.match(r"([a-z_0-9]+)\(", rest)
        if call:
            counts[call.group(1)] += 1
            err = re.search(r"= -1 (EPERM|EACCES|ENOSYS)", rest)
            if err:
                refused[call.group(1)][err.group(1)] += 1
for name in sorted(counts):
    errors = ",".join(f"{e}x{n}" for e, n in sorted(refused[name].items()))
    print(name, counts[name], errors)
