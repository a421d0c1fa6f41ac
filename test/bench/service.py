"""The service under test: start, health, idle waits, memory, logs, stop.

The process model (server/supervisor/supervisor.h): the process we start is the
supervisor; it forks the acceptor (the only HTTP process, running as the
`codejail` user) and execs N codejail-worker processes; each execution is a
tree of sandbox processes below a worker.
"""

import ctypes
import json
import os
import re
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request

HEALTH_WAIT_SECONDS = 90
IDLE_WAIT_SECONDS = 120
STOP_WAIT_SECONDS = 30
PR_SET_PDEATHSIG = 1


def _die_with_parent():
    # If the harness itself is killed, the service gets SIGTERM (and drains).
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _get(url, timeout=5):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
    except (OSError, ValueError):
        return None, b""


def _proc_children():
    """{ppid: [pid, ...]} for every process."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                stat = f.read()
        except OSError:
            continue
        # The command name can contain spaces and parentheses: split after it.
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    return children


def _descendants(pid, children):
    out, stack = [], list(children.get(pid, []))
    while stack:
        p = stack.pop()
        out.append(p)
        stack.extend(children.get(p, []))
    return out


def _proc_kib(pid, name, key):
    """The `key:` line of /proc/PID/<name> in KiB; 0 once the process is gone."""
    try:
        with open("/proc/%d/%s" % (pid, name)) as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _rss_kib(pid):
    return _proc_kib(pid, "status", "VmRSS")


def _pss_kib(pid):
    return _proc_kib(pid, "smaps_rollup", "Pss")


def _exe_name(pid):
    try:
        return os.path.basename(os.readlink("/proc/%d/exe" % pid))
    except OSError:
        return ""


class MemorySample:
    FIELDS = ["acceptor_rss", "service_rss", "service_pss", "sandboxes_pss", "workers"]

    def __init__(self):
        for field in self.FIELDS:
            setattr(self, field, 0)

    def peak(self, other):
        for field in self.FIELDS:
            setattr(self, field, max(getattr(self, field), getattr(other, field)))


class Service:
    def __init__(self, build_dir, config_path, port, log_path, workers):
        self.port = port
        self.base = "http://127.0.0.1:%d" % port
        self.workers = workers
        self.log_path = log_path
        self.log = open(log_path, "wb")
        env = {"PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")}
        self.proc = subprocess.Popen(
            [os.path.join(build_dir, "codejail-service"), "--config", config_path,
             "--bind", "127.0.0.1:%d" % port, "--workers", str(workers)],
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT, env=env,
            preexec_fn=_die_with_parent)
        self._sampler = None
        self._stop_sampling = threading.Event()
        self._peak = None

    # ------------------------------------------------------------ lifecycle

    def wait_healthy(self):
        deadline = time.monotonic() + HEALTH_WAIT_SECONDS
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("the service exited with status %d (log: %s)"
                                   % (self.proc.returncode, self.log_path))
            status, _ = _get(self.base + "/health/")
            if status == 200:
                self.wait_idle()
                return
            time.sleep(0.2)
        raise RuntimeError("the service did not become healthy within %d s (log: %s)"
                           % (HEALTH_WAIT_SECONDS, self.log_path))

    def metrics(self):
        status, body = _get(self.base + "/metrics")
        if status != 200:
            raise RuntimeError("/metrics answered %s" % status)
        values = {}
        for line in body.decode().splitlines():
            m = re.match(r"^(codejail_[a-z_]+) ([0-9.e+-]+)$", line)
            if m:
                values[m.group(1)] = float(m.group(2))
        return values

    def wait_idle(self):
        """Until every worker is connected and idle and nothing is queued: a
        phase must not inherit the previous phase's backlog."""
        deadline = time.monotonic() + IDLE_WAIT_SECONDS
        last = {}
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("the service exited with status %d" % self.proc.returncode)
            last = self.metrics()
            if (last.get("codejail_queue_depth") == 0 and last.get("codejail_workers_busy") == 0
                    and last.get("codejail_workers") == self.workers):
                return
            time.sleep(0.1)
        raise RuntimeError("the service did not become idle within %d s: %s"
                           % (IDLE_WAIT_SECONDS, last))

    def stop(self):
        """SIGTERM (the service drains), then wait; kill if it hangs."""
        clean = True
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=STOP_WAIT_SECONDS)
            except subprocess.TimeoutExpired:
                clean = False
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        return clean

    # --------------------------------------------------------------- memory

    def sample_memory(self):
        """Acceptor RSS; RSS and PSS summed over supervisor + acceptor +
        workers; PSS of the sandbox processes below the workers (KiB)."""
        sample = MemorySample()
        children = _proc_children()
        supervisor = self.proc.pid
        service = [supervisor]
        sandboxes = []
        for child in children.get(supervisor, []):
            name = _exe_name(child)
            if name == "codejail-worker":
                service.append(child)
                sample.workers += 1
                sandboxes.extend(_descendants(child, children))
            elif name == "codejail-service":
                service.append(child)
                sample.acceptor_rss = _rss_kib(child)
        sample.service_rss = sum(_rss_kib(p) for p in service)
        sample.service_pss = sum(_pss_kib(p) for p in service)
        sample.sandboxes_pss = sum(_pss_kib(p) for p in sandboxes)
        return sample

    def start_sampling(self, interval=1.0):
        """Samples memory every `interval` s until stop_sampling(); keeps the peak.
        Each sample walks /proc and the processes' page tables (PSS): at 10 Hz
        that took CPU from the 2-core machine it measures (8-client throughput
        47.7 req/s sampled at 10 Hz against 67.9 without); once a second
        perturbs little and still sees a phase's plateau."""
        self._stop_sampling.clear()
        self._peak = MemorySample()

        def loop():
            while not self._stop_sampling.is_set():
                self._peak.peak(self.sample_memory())
                self._stop_sampling.wait(interval)

        self._sampler = threading.Thread(target=loop, daemon=True)
        self._sampler.start()

    def stop_sampling(self):
        self._stop_sampling.set()
        self._sampler.join()
        return self._peak

    def acceptor_pid(self):
        for child in _proc_children().get(self.proc.pid, []):
            if _exe_name(child) == "codejail-service":
                return child
        raise RuntimeError("the service has no acceptor process")

    def acceptor_cpu_seconds(self):
        """CPU time the acceptor ran, all its threads, from the scheduler's
        nanosecond accounting (/proc/PID/task/TID/schedstat, first field)."""
        pid = self.acceptor_pid()
        total = 0
        for tid in os.listdir("/proc/%d/task" % pid):
            try:
                with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
                    total += int(f.read().split()[0])
            except OSError:
                pass  # a thread that just ended
        return total / 1e9

    # ----------------------------------------------------------------- logs

    def log_offset(self):
        self.log.flush()
        return os.path.getsize(self.log_path)

    def exec_log_lines(self, start, end, slug):
        """The code-exec log lines of `slug` between two offsets."""
        self.log.flush()
        with open(self.log_path, "rb") as f:
            f.seek(start)
            text = f.read(end - start).decode("utf-8", "replace")
        lines = []
        for line in text.splitlines():
            if not line.startswith("{"):
                continue
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if entry.get("msg") == "code-exec" and entry.get("slug") == slug:
                lines.append(entry)
        return lines
