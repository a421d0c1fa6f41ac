#!/usr/bin/env python3
"""The service's systemd notifications (sd_notify(3)), received the way
systemd receives them: each test binds its own AF_UNIX datagram socket with
SO_PASSCRED, starts the built service with NOTIFY_SOCKET pointing at it (and
WATCHDOG_USEC), and reads what arrives, with the sender's pid from the kernel.

Run (as root, inside a loopback-only network namespace):
    test/service/test_systemd_notify.py <build dir>
"""
import os
import pwd
import shutil
import signal
import socket
import struct
import sys
import tempfile
import threading
import time
import unittest

from service_process import ServiceProcess, children

BUILD = None  # set from argv

# Sandbox uids of this suite's own (62256-62511): no other suite's services
# or executors use them (test_service.py has 62000-62255, the API suite
# 63000-63767, the CLI tests 64000 + slot, integration and attack tests
# 61000 + slot).
OWN_UID_BASE = 62256

# Ample time limits: nothing here is about them.
LONG_LIMITS = """CODEJAIL_ENABLED: true
CODE_JAIL:
  limits: {CPU: 10, REALTIME: 20}
CODEJAIL_SERVICE: {sandbox_uid_base: %d}
""" % OWN_UID_BASE


class NotifySocket:
    """What systemd's notify socket sees: (time, sender pid, {key: value})."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        os.chmod(path, 0o777)  # the acceptor sends as the codejail user
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        self.messages = []
        self.cond = threading.Condition()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        size = struct.calcsize("3i")
        while True:
            try:
                data, ancdata, _, _ = self.sock.recvmsg(4096, socket.CMSG_SPACE(size))
            except OSError:
                return
            pid = None
            for level, kind, payload in ancdata:
                if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
                    pid = struct.unpack("3i", payload[:size])[0]
            fields = dict(line.split("=", 1) for line in data.decode().split("\n") if "=" in line)
            with self.cond:
                self.messages.append((time.monotonic(), pid, fields))
                self.cond.notify_all()

    def wait_for(self, predicate, timeout, start=0):
        """The first message from index `start` on that satisfies `predicate`."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for i in range(start, len(self.messages)):
                    if predicate(self.messages[i][2]):
                        return i, self.messages[i]
                left = deadline - time.monotonic()
                if left <= 0:
                    return None, None
                self.cond.wait(left)

    def since(self, index):
        with self.cond:
            return list(self.messages[index:])

    def count(self):
        with self.cond:
            return len(self.messages)

    def close(self):
        self.sock.close()


class NotifiedService(ServiceProcess):
    def __init__(self, test, config_text=LONG_LIMITS, workers=2, watchdog_usec=400000,
                 watchdog_pid=None, notify=True):
        self.tmp = tempfile.mkdtemp(prefix="cjs-notify-test-")
        os.chmod(self.tmp, 0o755)
        self.config = os.path.join(self.tmp, "config.yaml")
        with open(self.config, "w") as f:
            f.write(config_text)
        env = dict(os.environ)
        for key in ("CODEJAIL_SERVICE_CFG", "NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"):
            env.pop(key, None)
        self.notify = None
        if notify:
            path = os.path.join(self.tmp, "notify.sock")
            self.notify = NotifySocket(path)
            env["NOTIFY_SOCKET"] = path
            if watchdog_usec:
                env["WATCHDOG_USEC"] = str(watchdog_usec)
            if watchdog_pid is not None:
                env["WATCHDOG_PID"] = str(watchdog_pid)
        self.spawn(lambda port: [os.path.join(BUILD, "codejail-service"),
                                 "--bind", "127.0.0.1:%d" % port, "--workers", str(workers),
                                 "--config", self.config],
                   os.path.join(self.tmp, "service.log"), env=env)
        test.addCleanup(self.stop)

    def stop(self):
        super().stop()
        if self.notify:
            self.notify.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


# No interpreter: every startup probe fails.
FAILING_PROBES = """CODEJAIL_ENABLED: true
CODE_JAIL: {python_bin: /nonexistent/bin/python}
CODEJAIL_SERVICE: {sandbox_uid_base: %d}
""" % OWN_UID_BASE


def wait_stopped(pid, timeout=10):
    """Waits until `pid` is in the stopped state (SIGSTOP is delivered
    asynchronously)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
        if stat[stat.rindex(")") + 2] in "Tt":
            return
        time.sleep(0.01)
    raise AssertionError("pid %d did not stop within %d s" % (pid, timeout))


def has(key, value=None):
    return lambda fields: key in fields and (value is None or fields[key] == value)


class SystemdNotifyTest(unittest.TestCase):
    def wait_ready(self, service, timeout=120):
        index, message = service.notify.wait_for(has("READY", "1"), timeout)
        self.assertIsNotNone(message, "no READY=1:\n" + service.logs())
        return index, message

    def test_ready_only_once_healthy_with_status_and_watchdog_from_the_acceptor(self):
        service = NotifiedService(self)
        index, (_, sender, fields) = self.wait_ready(service)
        # At READY=1 the service is healthy and every worker serves.
        self.assertEqual(service.request("GET", "/health/")[0], 200)
        self.assertEqual(service.execute("x = 6 * 7")[1], b'{"globals_dict":{"x":42}}')
        # The READY message carries the status line: probes and workers.
        self.assertIn("startup probes passed", fields.get("STATUS", ""))
        self.assertIn("workers: 0 busy, 2 up of 2", fields["STATUS"])
        # It comes from the acceptor (NotifyAccess=all), which runs as codejail.
        acceptor = service.acceptor()
        self.assertIsNotNone(acceptor)
        self.assertEqual(sender, acceptor)
        self.assertNotEqual(sender, service.proc.pid)
        self.assertEqual(os.stat("/proc/%d" % acceptor).st_uid, pwd.getpwnam("codejail").pw_uid)
        self.assertEqual(sum(1 for m in service.notify.since(0) if m[2].get("READY") == "1"), 1)

        # WATCHDOG=1 every WATCHDOG_USEC/2 (200 ms), from the acceptor. The
        # expected count follows the window as measured (a loaded host
        # stretches the sleep): at least half the nominal pings (they keep
        # flowing, with room for timer and scheduling delays), and no more
        # than the interval allows (the next ping is armed after each one).
        start = service.notify.count()
        window_start = time.monotonic()
        time.sleep(3)
        window = time.monotonic() - window_start
        pings = [m for m in service.notify.since(start) if m[2].get("WATCHDOG") == "1"]
        nominal = window / 0.2
        self.assertGreaterEqual(len(pings), nominal / 2,
                                "%d pings in %.2f s: %s" % (len(pings), window,
                                                            service.notify.since(start)))
        self.assertLessEqual(len(pings), nominal + 3, "%d pings in %.2f s" % (len(pings), window))
        self.assertEqual({m[1] for m in pings}, {acceptor})

        # A hung acceptor event loop stops the keep-alives (so systemd's
        # watchdog would restart the service); they resume with it.
        os.kill(acceptor, signal.SIGSTOP)
        try:
            wait_stopped(acceptor)
            time.sleep(0.3)  # a ping may have been in flight
            start = service.notify.count()
            time.sleep(1.0)
            stopped = [m for m in service.notify.since(start) if m[2].get("WATCHDOG") == "1"]
        finally:
            os.kill(acceptor, signal.SIGCONT)
        self.assertEqual(stopped, [])
        start = service.notify.count()
        self.assertIsNotNone(service.notify.wait_for(has("WATCHDOG", "1"), 10, start)[1])

        # The workers do not inherit the notification variables.
        for worker in service.workers():
            with open("/proc/%d/environ" % worker, "rb") as f:
                environ = f.read().split(b"\0")
            self.assertFalse([e for e in environ if e.startswith((b"NOTIFY_SOCKET=", b"WATCHDOG_"))])

    def test_status_follows_busy_workers(self):
        service = NotifiedService(self)
        index, _ = self.wait_ready(service)
        thread = threading.Thread(target=lambda: service.execute("import time\ntime.sleep(2.5)"))
        thread.start()
        try:
            i_busy, busy = service.notify.wait_for(
                lambda f: "workers: 1 busy, 2 up of 2" in f.get("STATUS", ""), 10, index + 1)
            self.assertIsNotNone(busy, service.notify.since(index))
            _, idle = service.notify.wait_for(
                lambda f: "workers: 0 busy" in f.get("STATUS", ""), 30, i_busy + 1)
            self.assertIsNotNone(idle, service.notify.since(index))
        finally:
            thread.join(60)

    def test_sighup_reloading_then_ready_and_sigterm_stopping(self):
        service = NotifiedService(self)
        index, _ = self.wait_ready(service)
        service.proc.send_signal(signal.SIGHUP)
        i_reload, reloading = service.notify.wait_for(has("RELOADING", "1"), 30, index + 1)
        self.assertIsNotNone(reloading, service.logs())
        self.assertEqual(reloading[1], service.proc.pid)
        self.assertRegex(reloading[2].get("MONOTONIC_USEC", ""), r"^[0-9]+$")
        _, ready = service.notify.wait_for(has("READY", "1"), 120, i_reload + 1)
        self.assertIsNotNone(ready, service.logs())
        self.assertEqual(ready[1], service.proc.pid)
        self.assertIn("configuration reloaded", service.logs())

        service.proc.send_signal(signal.SIGTERM)
        _, stopping = service.notify.wait_for(has("STOPPING", "1"), 30, i_reload + 1)
        self.assertIsNotNone(stopping, service.logs())
        self.assertEqual(stopping[1], service.proc.pid)
        self.assertEqual(service.proc.wait(30), 0)

    def test_watchdog_for_another_pid_is_not_ours(self):
        # systemd sets WATCHDOG_PID to the main pid; here it names pid 1.
        service = NotifiedService(self, watchdog_pid=1)
        index, _ = self.wait_ready(service)
        time.sleep(1.0)
        self.assertEqual([m for m in service.notify.since(0) if "WATCHDOG" in m[2]], [])

    def test_failed_probes_refuse_to_start_under_systemd(self):
        service = NotifiedService(self, config_text=FAILING_PROBES)
        self.assertEqual(service.proc.wait(120), 3, service.logs())
        messages = [m[2] for m in service.notify.since(0)]
        self.assertFalse([m for m in messages if m.get("READY") == "1"], messages)
        self.assertTrue([m for m in messages if m.get("STATUS", "").startswith(
            "startup probes failed")], messages)
        self.assertIn("refusing to start", service.logs())
        # No acceptor or worker was left behind.
        self.assertEqual(children(service.proc.pid), [])

    def test_failed_probes_without_systemd_keep_serving_503(self):
        # Unchanged behaviour outside systemd (the reference's): up, unhealthy.
        service = NotifiedService(self, config_text=FAILING_PROBES, notify=False)
        deadline = time.monotonic() + 120
        status = None
        while time.monotonic() < deadline and status is None:
            try:
                status = service.request("GET", "/health/", timeout=2)[0]
            except OSError:
                self.assertIsNone(service.proc.poll(), service.logs())
                time.sleep(0.05)
        self.assertEqual(status, 503)


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: test_systemd_notify.py <build dir>")
    BUILD = os.path.abspath(sys.argv.pop(1))
    unittest.main(argv=[sys.argv[0]] + sys.argv[1:], verbosity=2)
