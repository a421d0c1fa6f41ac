"""A built codejail-service run as a child process for the process-level
tests (test_service.py, test_systemd_notify.py): how to talk to it over
loopback and find its processes. Each test module starts it its own way.

Processes are found by reading /proc directly (no pgrep: a fork per poll is
slow on a loaded host and makes every polling loop coarser)."""
import http.client
import json
import os
import signal
import socket
import subprocess
import time
import urllib.parse


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def parents():
    """pid -> ppid of every process on the host, now."""
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                stat = f.read()
        except OSError:  # gone meanwhile
            continue
        # The command name (field 2) may hold spaces and parentheses.
        table[int(entry)] = int(stat[stat.rindex(")") + 2:].split()[1])
    return table


def children(pid, table=None):
    table = parents() if table is None else table
    return sorted(p for p, ppid in table.items() if ppid == pid)


def descendants(pid, table=None):
    table = parents() if table is None else table
    out, todo = [], [pid]
    while todo:
        for c in children(todo.pop(), table):
            out.append(c)
            todo.append(c)
    return out


def cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return f.read().split(b"\0")
    except OSError:
        return []


def socket_inodes(pids):
    inodes = set()
    for pid in pids:
        try:
            fds = os.listdir("/proc/%d/fd" % pid)
        except OSError:
            continue
        for fd in fds:
            try:
                link = os.readlink("/proc/%d/fd/%s" % (pid, fd))
            except OSError:
                continue
            if link.startswith("socket:["):
                inodes.add(link[len("socket:["):-1])
    return inodes


def listening_on(port, pids):
    """Whether one of `pids` holds the TCP socket listening on 127.0.0.1:port."""
    try:
        with open("/proc/net/tcp") as f:
            rows = f.read().splitlines()[1:]
    except OSError:
        return False
    held = None
    for row in rows:
        fields = row.split()
        local, state, inode = fields[1], fields[3], fields[9]
        if state == "0A" and int(local.split(":")[1], 16) == port:
            held = socket_inodes(pids) if held is None else held
            if inode in held:
                return True
    return False


class ServiceProcess:
    """Set by subclasses through spawn(): self.proc (the supervisor),
    self.port, self.log (a w+ file holding its stdout and stderr)."""

    def spawn(self, make_args, log_path, attempts=5, **popen):
        """Starts the service on a free loopback port: make_args(port) is its
        argv. The port is free when chosen, but something else may take it
        before the service binds it (the service cannot bind port 0 and
        report it): a start that loses that race is retried on a new port."""
        for _ in range(attempts):
            self.port = free_port()
            self.log = open(log_path, "w+")
            self.proc = subprocess.Popen(make_args(self.port), stdout=self.log, stderr=self.log,
                                         **popen)
            if not self._lost_the_port():
                return
            self.proc.wait()
            self.log.close()
        raise AssertionError("no free port after %d attempts" % attempts)

    def _lost_the_port(self):
        """Waits until the service listens on self.port (the listener is
        opened before the startup probes) or exits; True when it exited
        because the port was taken."""
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                text = self.logs()
                return "cannot listen on" in text and "Address already in use" in text
            if listening_on(self.port, [self.proc.pid] + descendants(self.proc.pid)):
                return False
            time.sleep(0.02)
        return False  # neither: the caller's own wait reports it

    def logs(self):
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def request(self, method, path, body=None, headers=None, timeout=10):
        """(status, body, headers)"""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            return response.status, response.read(), dict(response.getheaders())
        finally:
            conn.close()

    def execute(self, code, globals_dict=None, timeout=30, context=None):
        payload = {"code": code, "globals_dict": globals_dict or {}}
        if context is not None:
            payload["limit_overrides_context"] = context
        body = urllib.parse.urlencode({"payload": json.dumps(payload)})
        return self.request("POST", "/api/v0/code-exec", body,
                            {"Content-Type": "application/x-www-form-urlencoded"}, timeout)

    def metric(self, name):
        """The value of an unlabelled metric from /metrics, or None."""
        text = self.request("GET", "/metrics")[1].decode()
        for line in text.splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
        return None

    def wait_workers_ready(self, count, timeout=60):
        """Waits until `count` workers said hello to the acceptor: /health/
        reflects the startup probes only, and a worker that is still starting
        is not idle (a request would wait for it)."""
        deadline = time.monotonic() + timeout
        while self.metric("codejail_workers") != count:
            if time.monotonic() > deadline:
                raise AssertionError("%d workers did not become ready within %d s:\n%s"
                                     % (count, timeout, self.logs()))
            time.sleep(0.05)

    def workers(self, table=None):
        """The jail workers (not a startup-probe run of the worker binary,
        which the supervisor starts at a reload)."""
        found = []
        for p in children(self.proc.pid, table):
            argv = cmdline(p)
            if argv and b"codejail-worker" in argv[0] and b"--probes-json" not in argv:
                found.append(p)
        return found

    def acceptor(self):
        table = parents()
        workers = self.workers(table)
        others = [p for p in children(self.proc.pid, table)
                  if p not in workers and b"--probes-json" not in cmdline(p)]
        return others[0] if len(others) == 1 else None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
