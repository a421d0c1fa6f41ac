"""A built codejail-service run as a child process for the process-level
tests (test_service.py, test_systemd_notify.py): how to talk to it over
loopback and find its processes. Each test module starts it its own way."""
import http.client
import json
import signal
import socket
import subprocess
import urllib.parse


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def children(pid):
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def descendants(pid):
    out, todo = [], [pid]
    while todo:
        for c in children(todo.pop()):
            out.append(c)
            todo.append(c)
    return out


class ServiceProcess:
    """Set by subclasses: self.proc (the supervisor), self.port, self.log
    (a w+ file holding its stdout and stderr)."""

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

    def execute(self, code, globals_dict=None, timeout=10):
        body = urllib.parse.urlencode(
            {"payload": json.dumps({"code": code, "globals_dict": globals_dict or {}})})
        return self.request("POST", "/api/v0/code-exec", body,
                            {"Content-Type": "application/x-www-form-urlencoded"}, timeout)

    def workers(self):
        found = []
        for p in children(self.proc.pid):
            try:
                with open("/proc/%d/cmdline" % p, "rb") as f:
                    if b"codejail-worker" in f.read():
                        found.append(p)
            except FileNotFoundError:
                pass
        return found

    def acceptor(self):
        others = [p for p in children(self.proc.pid) if p not in self.workers()]
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
