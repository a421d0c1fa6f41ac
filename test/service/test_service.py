#!/usr/bin/env python3
"""Process-level tests of codejail-service: what a black-box API suite cannot
reach (worker crashes, draining, overload, slow and malformed clients,
privilege separation). Each test starts its own service on a free loopback
port from the build directory given as the first argument.

Run (as root, inside a loopback-only network namespace):
    test/service/test_service.py <build dir>
"""
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

from service_process import ServiceProcess, children, descendants, free_port

BUILD = None  # set from argv


def sandbox_processes(among=None, base=None):
    """Processes running as one of this test's sandbox uids (base..base+255),
    optionally only those in `among` (other services on the host have
    sandboxes too)."""
    base = OWN_UID_BASE if base is None else base
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (among is None or int(entry) in among):
            try:
                if base <= os.stat("/proc/" + entry).st_uid <= base + 255:
                    found.append(int(entry))
            except FileNotFoundError:
                pass
    return found


def busy_worker(service, timeout=5):
    """A worker running an execution (it has a keeper child), or None."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        busy = next((w for w in service.workers() if children(w)), None)
        if busy is not None:
            return busy
        time.sleep(0.01)
    return None


class Service(ServiceProcess):
    def __init__(self, config_text=None, workers=2, extra=(), preexec_fn=None):
        self.port = free_port()
        self.tmp = tempfile.mkdtemp(prefix="cjs-service-test-")
        args = [os.path.join(BUILD, "codejail-service"), "--bind", "127.0.0.1:%d" % self.port,
                "--workers", str(workers), *extra]
        if config_text is not None:
            self.config = os.path.join(self.tmp, "config.yaml")
            with open(self.config, "w") as f:
                f.write(config_text)
            args += ["--config", self.config]
        self.log = open(os.path.join(self.tmp, "service.log"), "w+")
        env = dict(os.environ, CJS_TEST_ENV_LEAKAGE="yes")
        env.pop("CODEJAIL_SERVICE_CFG", None)
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=self.log, env=env,
                                     preexec_fn=preexec_fn)
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                if self.request("GET", "/health/")[0] == 200:
                    return
            except OSError:
                pass
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError("service did not become healthy:\n" + self.logs())


# A sandbox uid range no other service on the host uses (no account owns it).
OWN_UID_BASE = 62000

LONG_LIMITS = """CODEJAIL_ENABLED: true
CODE_JAIL:
  limits: {CPU: 10, REALTIME: 10}
"""


class ServiceTest(unittest.TestCase):
    def start(self, *args, **kwargs):
        service = Service(*args, **kwargs)
        self.addCleanup(service.stop)
        return service

    def test_process_model_and_privilege_separation(self):
        service = self.start()
        acceptors = [p for p in children(service.proc.pid) if p not in service.workers()]
        self.assertEqual(len(acceptors), 1)
        with open("/proc/%d/status" % acceptors[0]) as f:
            status = f.read()
        self.assertRegex(status, r"Uid:\s+%d\s" % __import__("pwd").getpwnam("codejail").pw_uid)
        self.assertRegex(status, r"CapEff:\s+0+\n")
        self.assertRegex(status, r"CapBnd:\s+0+\n")
        self.assertEqual(len(service.workers()), 2)

    def test_worker_killed_mid_request_gets_see_logs_and_the_pool_recovers(self):
        # Sandbox uids of its own, so that other services' sandboxes running
        # on the same host (the default range) do not count as leftovers.
        service = self.start(LONG_LIMITS + "CODEJAIL_SERVICE: {sandbox_uid_base: %d}\n" % OWN_UID_BASE)
        result = {}

        def slow():
            result["answer"] = service.execute("import time\ntime.sleep(4)", {"k": 1})

        import threading
        thread = threading.Thread(target=slow)
        thread.start()
        busy = busy_worker(service)
        self.assertIsNotNone(busy, "no worker picked up the request")
        deadline = time.time() + 5
        sandboxed = []
        while not sandboxed and time.time() < deadline:
            sandboxed = sandbox_processes(among=set(descendants(busy)))
            time.sleep(0.05)
        self.assertNotEqual(sandboxed, [], "no sandboxed process under the busy worker")
        os.kill(busy, signal.SIGKILL)
        thread.join(10)
        status, body, headers = result["answer"]
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(body), {"globals_dict": {"k": 1},
                                            "emsg": "Couldn't execute sandboxed code: See logs."})
        # The sandbox of the dead worker died with it (teardown takes a moment).
        deadline = time.time() + 5
        while sandbox_processes(among=set(sandboxed)) and time.time() < deadline:
            time.sleep(0.05)
        self.assertEqual(sandbox_processes(among=set(sandboxed)), [])
        # The pool is whole again and serves.
        deadline = time.time() + 10
        while len(service.workers()) < 2 and time.time() < deadline:
            time.sleep(0.05)
        self.assertEqual(len(service.workers()), 2)
        for _ in range(3):
            self.assertEqual(service.execute("x = 1 + 1")[1], b'{"globals_dict":{"x":2}}')
        metrics = service.request("GET", "/metrics")[1].decode()
        self.assertIn("codejail_worker_crashes_total 1", metrics)

    def test_stopped_worker_request_is_answered_at_its_deadline(self):
        # Default limits: REALTIME 1, so the worker's answer deadline is 31 s.
        service = self.start()
        result = {}

        def slow():
            started = time.time()
            result["answer"] = service.execute("import time\ntime.sleep(0.5)", {"k": 2}, timeout=90)
            result["seconds"] = time.time() - started

        import threading
        thread = threading.Thread(target=slow)
        thread.start()
        busy = busy_worker(service)
        self.assertIsNotNone(busy, "no worker picked up the request")
        os.kill(busy, signal.SIGSTOP)
        try:
            # The other worker keeps serving meanwhile.
            self.assertEqual(service.execute("x = 1 + 1")[1], b'{"globals_dict":{"x":2}}')
            thread.join(60)
            self.assertFalse(thread.is_alive(), "the request was never answered")
        finally:
            os.kill(busy, signal.SIGCONT)
        status, body, headers = result["answer"]
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(body), {"globals_dict": {"k": 2},
                                            "emsg": "Couldn't execute sandboxed code: See logs."})
        self.assertGreater(result["seconds"], 25)
        self.assertLess(result["seconds"], 45)
        self.assertIn("worker did not answer within its deadline", service.logs())
        # Resumed, the worker finds its socket closed and exits; the pool is whole again.
        deadline = time.time() + 15
        while (busy in service.workers() or len(service.workers()) < 2) and time.time() < deadline:
            time.sleep(0.1)
        self.assertNotIn(busy, service.workers())
        self.assertEqual(len(service.workers()), 2)
        for _ in range(3):
            self.assertEqual(service.execute("x = 1 + 1")[1], b'{"globals_dict":{"x":2}}')

    def test_sigterm_drains_in_flight_requests(self):
        service = self.start(LONG_LIMITS)
        import threading
        result = {}
        thread = threading.Thread(
            target=lambda: result.setdefault("r", service.execute("import time\ntime.sleep(1.5)\nx = 5")))
        thread.start()
        time.sleep(0.5)
        service.proc.send_signal(signal.SIGTERM)
        thread.join(10)
        self.assertEqual(result["r"][0], 200)
        self.assertEqual(result["r"][1], b'{"globals_dict":{"x":5}}')
        self.assertEqual(service.proc.wait(30), 0)
        with self.assertRaises(OSError):
            service.request("GET", "/health/", timeout=1)

    def test_overload_answers_503_with_retry_after(self):
        config = LONG_LIMITS + "CODEJAIL_SERVICE:\n  queue_limit: 1\n  queue_timeout_seconds: 5\n"
        service = self.start(config, workers=1)
        import threading
        results = []
        threads = [threading.Thread(target=lambda: results.append(
            service.execute("import time\ntime.sleep(1)"))) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(20)
        statuses = sorted(r[0] for r in results)
        self.assertIn(200, statuses)
        self.assertIn(503, statuses)
        for status, body, headers in results:
            if status == 503:
                self.assertEqual(headers.get("Retry-After"), "1")
                self.assertEqual(headers.get("Content-Type"), "application/json")
                self.assertIn("error", json.loads(body))

    def test_queue_timeout_answers_503(self):
        config = LONG_LIMITS + "CODEJAIL_SERVICE:\n  queue_limit: 10\n  queue_timeout_seconds: 0.5\n"
        service = self.start(config, workers=1)
        import threading
        results = []
        threads = [threading.Thread(target=lambda: results.append(
            service.execute("import time\ntime.sleep(1.5)"))) for _ in range(2)]
        for t in threads:
            t.start()
            time.sleep(0.1)
        for t in threads:
            t.join(20)
        self.assertEqual(sorted(r[0] for r in results), [200, 503])

    def test_malformed_http_gets_a_clean_400(self):
        service = self.start()
        with socket.create_connection(("127.0.0.1", service.port), timeout=5) as s:
            s.sendall(b"GARBAGE\x00 / HTTP/9.9\r\n\r\n")
            data = s.recv(65536)
        self.assertTrue(data.startswith(b"HTTP/1.1 400"), data)
        self.assertIn(b"Content-Type: application/json", data)
        self.assertEqual(service.execute("x = 1")[0], 200)

    def test_oversized_body_gets_413(self):
        service = self.start("CODEJAIL_ENABLED: true\nCODEJAIL_SERVICE: {max_body_bytes: 1048576}\n")
        body = b"payload=" + b"a" * (2 << 20)
        status, data, _ = service.request(
            "POST", "/api/v0/code-exec", body,
            {"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(status, 413)
        self.assertIn("detail", json.loads(data))

    def test_too_many_header_fields_are_refused(self):
        service = self.start()
        headers = {"X-Field-%d" % i: "v" for i in range(150)}
        status, _, _ = service.request("GET", "/health/", headers=headers)
        self.assertEqual(status, 431)

    def test_slowloris_header_is_cut_off(self):
        service = self.start()
        s = socket.create_connection(("127.0.0.1", service.port), timeout=30)
        s.sendall(b"GET /health/ HTTP/1.1\r\nHost: x\r\n")
        start = time.time()
        # Trickle a header byte per second; the 10 s header deadline ends it.
        try:
            while time.time() - start < 25:
                s.sendall(b"X")
                time.sleep(1)
                s.settimeout(0.01)
                try:
                    if s.recv(1) == b"":
                        break
                except socket.timeout:
                    pass
                s.settimeout(30)
        except OSError:
            pass
        elapsed = time.time() - start
        s.close()
        self.assertLess(elapsed, 15)
        self.assertEqual(service.request("GET", "/health/")[0], 200)

    def test_sighup_reloads_the_config_for_new_workers(self):
        service = self.start("CODEJAIL_ENABLED: true\nCODEJAIL_SERVICE: {max_requests: 1, max_requests_jitter: 0}\n",
                             workers=1)
        self.assertIn(b"-9", service.execute("import time\ntime.sleep(1.5)")[1])
        with open(service.config, "w") as f:
            f.write(LONG_LIMITS + "CODEJAIL_SERVICE: {max_requests: 1, max_requests_jitter: 0}\n")
        service.proc.send_signal(signal.SIGHUP)
        time.sleep(0.5)
        # The worker that served the first request has recycled (max 1); the
        # next worker started after the reload.
        service.execute("x = 1")
        self.assertEqual(service.execute("import time\ntime.sleep(1.5)\nx = 2")[1],
                         b'{"globals_dict":{"x":2}}')
        self.assertIn("configuration reloaded", service.logs())

    def test_workers_recycle_after_max_requests(self):
        service = self.start("CODEJAIL_ENABLED: true\nCODEJAIL_SERVICE: {max_requests: 2, max_requests_jitter: 0}\n",
                             workers=1)
        first = service.workers()
        for i in range(5):
            self.assertEqual(service.execute("x = %d" % i)[1], b'{"globals_dict":{"x":%d}}' % i)
        time.sleep(0.3)
        self.assertNotEqual(first, service.workers())
        metrics = service.request("GET", "/metrics")[1].decode()
        self.assertRegex(metrics, r"codejail_worker_recycles_total [12]\n")
        self.assertIn("codejail_worker_crashes_total 0", metrics)

    def test_logs_are_json_lines_without_code(self):
        service = self.start()
        service.execute("secret_marker_xyz = 1")
        service.stop()
        lines = [l for l in service_logs_lines(service) if l.strip()]
        self.assertTrue(lines)
        for line in lines:
            json.loads(line)
        self.assertNotIn("secret_marker_xyz", "\n".join(lines))
        self.assertTrue(any('"codejail.exec.status":"executed.success"' in l for l in lines))

    def test_max_connections_defers_accepting_until_a_connection_closes(self):
        service = self.start("CODEJAIL_ENABLED: true\nCODEJAIL_SERVICE: {max_connections: 20}\n")
        held = hold_served_connections(service, 20)
        fresh = send_health_request(service)
        try:
            # Accepted by the kernel (the backlog) but not by the service.
            fresh.settimeout(1)
            with self.assertRaises(socket.timeout):
                fresh.recv(65536)
            held.pop().close()
            fresh.settimeout(5)
            self.assertTrue(fresh.recv(65536).startswith(b"HTTP/1.1 200"))
        finally:
            fresh.close()
            for conn in held:
                conn.close()
        self.assertEqual(service.request("GET", "/health/")[0], 200)
        self.assertIn("max_connections reached", service.logs())

    def test_queue_limit_zero_serves_when_a_worker_is_idle(self):
        service = self.start(LONG_LIMITS + "CODEJAIL_SERVICE: {queue_limit: 0}\n", workers=1)
        # /health/ reflects the probes; the worker may still be saying hello,
        # and one that is starting is not idle.
        deadline = time.time() + 10
        while "codejail_workers 1\n" not in service.request("GET", "/metrics")[1].decode():
            self.assertLess(time.time(), deadline, "the worker did not become ready")
            time.sleep(0.05)
        self.assertEqual(service.execute("x = 1")[:2], (200, b'{"globals_dict":{"x":1}}'))
        # With the only worker busy, nothing may wait: 503 at once.
        import threading
        result = {}
        thread = threading.Thread(
            target=lambda: result.setdefault("r", service.execute("import time\ntime.sleep(2)")))
        thread.start()
        deadline = time.time() + 5
        while not any(children(w) for w in service.workers()) and time.time() < deadline:
            time.sleep(0.05)
        status, body, headers = service.execute("x = 2")
        self.assertEqual(status, 503)
        self.assertEqual(headers.get("Retry-After"), "1")
        thread.join(10)
        self.assertEqual(result["r"][0], 200)
        self.assertEqual(service.execute("x = 3")[1], b'{"globals_dict":{"x":3}}')

    def test_idle_connections_beyond_max_connections_do_not_flood_the_log(self):
        service = self.start("CODEJAIL_ENABLED: true\nCODEJAIL_SERVICE: {max_connections: 20}\n")
        held = hold_served_connections(service, 20)
        # 40 more that never send anything wait in the listen backlog.
        held += [socket.create_connection(("127.0.0.1", service.port), timeout=5)
                 for _ in range(40)]
        fresh = send_health_request(service)
        try:
            time.sleep(2)
            fresh.settimeout(0.5)
            with self.assertRaises(socket.timeout):
                fresh.recv(65536)
        finally:
            fresh.close()
            for conn in held:
                conn.close()
        # Everything queued behind the cap was closed: a fresh client is served.
        self.assertEqual(service.request("GET", "/health/", timeout=5)[0], 200)
        self.assertLess(len(service.logs().splitlines()), 100)

    def test_accept_errors_back_off_without_flooding_the_log(self):
        # An open-file limit below max_connections: the acceptor runs into
        # EMFILE. It must neither spin nor log every failed accept. (1024, a
        # common default, is about the least the jail workers need.)
        import resource
        nofile = 1024

        def low_nofile():
            resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))

        service = self.start(
            "CODEJAIL_ENABLED: true\nCODEJAIL_SERVICE: {max_connections: 100000}\n",
            preexec_fn=low_nofile)
        held = [socket.create_connection(("127.0.0.1", service.port), timeout=5)
                for _ in range(nofile + 100)]
        try:
            time.sleep(3)
            with self.assertRaises(OSError):  # no descriptor left for it
                service.request("GET", "/health/", timeout=1)
        finally:
            for conn in held:
                conn.close()
        # Closed connections free descriptors; the 100 ms retry picks up again.
        deadline = time.time() + 5
        while True:
            try:
                if service.request("GET", "/health/", timeout=1)[0] == 200:
                    break
            except OSError:
                time.sleep(0.1)
            self.assertLess(time.time(), deadline, "/health/ did not recover")
        logs = service.logs()
        failures = [l for l in logs.splitlines() if "accept failed" in l]
        self.assertGreaterEqual(len(failures), 1)
        self.assertLessEqual(len(failures), 6)  # at most one a second
        self.assertIn('"suppressed"', failures[-1])
        self.assertLess(len(logs.splitlines()), 100)


def hold_served_connections(service, count):
    """`count` keep-alive connections, each served once (so the service has
    certainly accepted it) and then left idle."""
    held = []
    for _ in range(count):
        conn = http.client.HTTPConnection("127.0.0.1", service.port, timeout=10)
        conn.request("GET", "/health/")
        response = conn.getresponse()
        response.read()
        assert response.status == 200, response.status
        held.append(conn)
    return held


def send_health_request(service):
    s = socket.create_connection(("127.0.0.1", service.port), timeout=5)
    s.sendall(b"GET /health/ HTTP/1.1\r\nHost: x\r\n\r\n")
    return s


def service_logs_lines(service):
    with open(service.log.name) as f:
        return f.read().splitlines()


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: test_service.py <build dir>")
    BUILD = os.path.abspath(sys.argv.pop(1))
    unittest.main(argv=[sys.argv[0]] + sys.argv[1:], verbosity=2)
