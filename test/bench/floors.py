"""The floors a service request is compared with, measured in the same run.

* bare: the sandbox interpreter started on the very wrapper the executor
  writes (jail/wrapper/jailed_code.py with its python_path lines), in a
  directory laid out like a sandbox dir (jailed_code, tmp/, the uploaded
  files), with the executor's environment and the same stdin, but without any
  confinement and without the service: `python -E -B jailed_code`.
* codejail-run: the same payload through build/codejail-run (the full
  execution path: sandbox dir, namespaces, mount view, cgroup, ... but no HTTP
  and no worker process already waiting).
* worker direct: the same request frame sent to a codejail-worker over the
  acceptor's socketpair protocol by cjs-bench-worker-client (the service
  minus the acceptor).

The bare floor, worker direct and the service over HTTP are sampled together
by cjs-bench-worker-client (interleaved, so that they share the machine's
noise); codejail-run runs sequentially right before. Every answer is checked.
"""

import os
import shutil
import subprocess
import tempfile
import time

WRAPPER_MARKER = "#@CODEJAIL_PYTHON_PATH@\n"


def wrapper_source(source_dir, python_path):
    """jail/wrapper_source.cpp: the marker line becomes one sys.path.append()
    line per python_path entry."""
    with open(os.path.join(source_dir, "jail", "wrapper", "jailed_code.py")) as f:
        template = f.read()
    assert WRAPPER_MARKER in template, "the wrapper lost its python_path marker"
    lines = "".join("sys.path.append(%r)\n" % entry for entry in python_path)
    return template.replace(WRAPPER_MARKER, lines, 1)


class BareDir:
    """A sandbox-like directory for bare runs (removed by close())."""

    def __init__(self, source_dir, workload):
        self.path = tempfile.mkdtemp(prefix="cjs-bench-bare-")
        with open(os.path.join(self.path, "jailed_code"), "w") as f:
            f.write(wrapper_source(source_dir, workload.data["python_path"]))
        os.mkdir(os.path.join(self.path, "tmp"))
        for name, content in workload.files:
            with open(os.path.join(self.path, name), "wb") as f:
                f.write(content)
        # jail/executor.cpp sandbox_environment(), minus the exec-lock preload.
        self.env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "TMPDIR": "tmp",
                    "HOME": os.path.join(self.path, "tmp"), "LANG": "C.UTF-8"}

    def close(self):
        shutil.rmtree(self.path, ignore_errors=True)


def _timed_run(argv, stdin, cwd=None, env=None, kill_after=None):
    """(seconds, CompletedProcess-like or None if killed at kill_after)."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, cwd=cwd, env=env)
    try:
        out, err = proc.communicate(stdin, timeout=kill_after)
    except subprocess.TimeoutExpired:
        # The wall-clock limit, as the service applies it: kill, then reap.
        proc.kill()
        proc.communicate()
        return time.perf_counter() - start, None
    seconds = time.perf_counter() - start
    return seconds, subprocess.CompletedProcess(argv, proc.returncode, out, err)


def bare_runs(python, source_dir, workload, runs, realtime=None):
    """Times `python -E -B jailed_code` `runs` times; returns (seconds list,
    the stdout of the last run, or None for a timeout)."""
    d = BareDir(source_dir, workload)
    try:
        times, globals_out = [], None
        stdin = workload.sandbox_stdin()
        for _ in range(runs):
            seconds, result = _timed_run([python, "-E", "-B", "jailed_code"], stdin, cwd=d.path,
                                         env=d.env, kill_after=realtime if workload.times_out else None)
            times.append(seconds)
            if workload.times_out:
                if result is not None:
                    raise RuntimeError("bare %s: the endless loop ended by itself" % workload.name)
                continue
            if result.returncode != 0:
                raise RuntimeError("bare %s run failed with %d: %s" % (
                    workload.name, result.returncode, result.stderr[-2000:].decode("utf-8", "replace")))
            globals_out = result.stdout
        return times, globals_out
    finally:
        d.close()


def bare_parallel_rps(python, source_dir, workload, clients, seconds):
    """Bare runs of the workload by `clients` threads back to back for
    `seconds`: what the unconfined interpreter itself sustains at that
    concurrency on this machine (completed runs per second)."""
    import threading
    dirs = [BareDir(source_dir, workload) for _ in range(clients)]
    stdin = workload.sandbox_stdin()
    done, failures = [0] * clients, []
    deadline = time.perf_counter() + seconds

    def loop(i):
        while time.perf_counter() < deadline:
            _, result = _timed_run([python, "-E", "-B", "jailed_code"], stdin, cwd=dirs[i].path,
                                   env=dirs[i].env)
            if result.returncode != 0:
                failures.append(result.returncode)
                return
            done[i] += 1

    start = time.perf_counter()
    try:
        threads = [threading.Thread(target=loop, args=(i,)) for i in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        for d in dirs:
            d.close()
    if failures:
        raise RuntimeError("bare %s failed in parallel: %r" % (workload.name, failures[:5]))
    return sum(done) / (time.perf_counter() - start)


def bare_python_pass(python, runs):
    """`python -E -B -c pass`: interpreter start-up alone, for reference."""
    times = []
    for _ in range(runs):
        seconds, result = _timed_run([python, "-E", "-B", "-c", "pass"], b"")
        if result.returncode != 0:
            raise RuntimeError("%s -c pass failed" % python)
        times.append(seconds)
    return times


class PayloadFiles:
    """The payload text and uploaded files on disk, for the command-line tools."""

    def __init__(self, workload, expected_body):
        self.dir = tempfile.mkdtemp(prefix="cjs-bench-payload-")
        self.payload = os.path.join(self.dir, "payload.json")
        with open(self.payload, "w") as f:
            f.write(workload.payload_text)
        self.files = []
        for name, content in workload.files:
            path = os.path.join(self.dir, name)
            with open(path, "wb") as f:
                f.write(content)
            self.files.append((name, path))
        self.expect = os.path.join(self.dir, "expected_body")
        with open(self.expect, "wb") as f:
            f.write(expected_body)

    def close(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def codejail_run_runs(build_dir, config_path, workload, expected_body, runs):
    """Times build/codejail-run on the payload `runs` times; checks every answer."""
    files = PayloadFiles(workload, expected_body)
    try:
        argv = [os.path.join(build_dir, "codejail-run"), "--config", config_path]
        for name, path in files.files:
            argv += ["--file", "%s=%s" % (name, path)]
        argv.append(files.payload)
        times = []
        for _ in range(runs):
            seconds, result = _timed_run(argv, b"", env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")})
            if result.returncode != 0 or result.stdout != expected_body:
                raise RuntimeError("codejail-run %s: status %d, answer %r, stderr %s" % (
                    workload.name, result.returncode, result.stdout[:500],
                    result.stderr[-2000:].decode("utf-8", "replace")))
            times.append(seconds)
        return times
    finally:
        files.close()


def interleaved_runs(build_dir, config_path, source_dir, python, workload, expected_body,
                     bare_stdout, runs, slot, http_port, http_request, realtime):
    """`runs` samples of (worker direct, service over HTTP, bare interpreter),
    taken back to back by cjs-bench-worker-client in a rotating order; returns
    {"worker": [s], "http": [s], "bare": [s]}."""
    files = PayloadFiles(workload, expected_body)
    bare = BareDir(source_dir, workload)
    try:
        raw = os.path.join(files.dir, "http_request")
        with open(raw, "wb") as f:
            f.write(http_request)
        stdin = os.path.join(files.dir, "bare_stdin")
        with open(stdin, "wb") as f:
            f.write(workload.sandbox_stdin())
        argv = [os.path.join(build_dir, "test", "bench", "cjs-bench-worker-client"),
                "--worker", os.path.join(build_dir, "codejail-worker"), "--config", config_path,
                "--payload", files.payload, "--expect", files.expect, "--slot", str(slot),
                "--requests", str(runs), "--http", str(http_port), "--http-request", raw,
                "--bare-python", python, "--bare-dir", bare.path, "--bare-stdin", stdin]
        if workload.times_out:
            argv += ["--bare-kill-after", str(realtime)]
        else:
            expect = os.path.join(files.dir, "bare_expected")
            with open(expect, "wb") as f:
                f.write(bare_stdout)
            argv += ["--bare-expect", expect]
        for name, path in files.files:
            argv += ["--file", "%s=%s" % (name, path)]
        result = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        if result.returncode != 0:
            raise RuntimeError("interleaved runs of %s failed (%d): %s" % (
                workload.name, result.returncode, result.stderr[-3000:].decode("utf-8", "replace")))
        samples = {"worker": [], "http": [], "bare": []}
        for line in result.stdout.decode().splitlines():
            fields = line.split()
            if fields and fields[0] == "sample":
                for field in fields[1:]:
                    key, _, value = field.partition("=")
                    samples[key].append(int(value) / 1e6)
        if any(len(v) != runs for v in samples.values()):
            raise RuntimeError("interleaved runs of %s: %r samples for %d runs" % (
                workload.name, {k: len(v) for k, v in samples.items()}, runs))
        return samples
    finally:
        files.close()
        bare.close()


def raw_http_request(prepared, host):
    """The bytes python-requests (urllib3, http.client) writes for `prepared`:
    request line, Host, then the prepared headers in order, then the body."""
    body = prepared.body if isinstance(prepared.body, bytes) else prepared.body.encode()
    path = prepared.path_url
    head = "%s %s HTTP/1.1\r\nHost: %s\r\n" % (prepared.method, path, host)
    head += "".join("%s: %s\r\n" % kv for kv in prepared.headers.items())
    return head.encode("latin-1") + b"\r\n" + body
