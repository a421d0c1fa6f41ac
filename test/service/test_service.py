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
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

from service_process import ServiceProcess, children, cmdline, descendants, parents

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


def running_a_request(worker, table):
    """Whether `worker` runs an execution: one of its sandboxed processes
    reads a stdin pipe that the worker no longer holds open. The worker
    writes a request's stdin and closes it at once; a sandbox prestarted for
    the next request (warm start) keeps its stdin held by the worker until
    that request comes."""
    try:
        held = {os.readlink("/proc/%d/fd/%s" % (worker, fd))
                for fd in os.listdir("/proc/%d/fd" % worker)}
    except OSError:
        return False
    for p in sandbox_processes(among=set(descendants(worker, table))):
        try:
            stdin = os.readlink("/proc/%d/fd/0" % p)
        except OSError:
            continue
        if stdin.startswith("pipe:") and stdin not in held:
            return True
    return False


def busy_worker(service, timeout=30):
    """A worker running an execution, or None."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        table = parents()
        busy = next((w for w in service.workers(table) if running_a_request(w, table)), None)
        if busy is not None:
            return busy
        time.sleep(0.01)
    return None


# A sandbox uid range of this suite's own (no account owns it, and no other
# suite's services or executors use it): the sandbox process checks below
# look at this range only.
OWN_UID_BASE = 62000

# Time limits for executions that do not test time: far above what they need
# even on a machine ten times slower than a 2-core VM where Python starts in
# 40 ms, so that only what a test is about decides its outcome.
AMPLE = {"CPU": 10, "REALTIME": 20}


def flow(mapping):
    return "{" + ", ".join("%s: %s" % item for item in mapping.items()) + "}"


def config(limits=AMPLE, **service):
    """A configuration: execution enabled, `limits` for every execution, this
    suite's sandbox uids, and the CODEJAIL_SERVICE keys given."""
    service.setdefault("sandbox_uid_base", OWN_UID_BASE)
    return "CODEJAIL_ENABLED: true\nCODE_JAIL:\n  limits: %s\nCODEJAIL_SERVICE: %s\n" % (
        flow(limits), flow(service))


class Service(ServiceProcess):
    def __init__(self, config_text=None, workers=2, extra=(), preexec_fn=None):
        self.tmp = tempfile.mkdtemp(prefix="cjs-service-test-")
        self.config = os.path.join(self.tmp, "config.yaml")
        with open(self.config, "w") as f:
            f.write(config() if config_text is None else config_text)
        env = dict(os.environ, CJS_TEST_ENV_LEAKAGE="yes")
        env.pop("CODEJAIL_SERVICE_CFG", None)
        self.spawn(lambda port: [os.path.join(BUILD, "codejail-service"),
                                 "--bind", "127.0.0.1:%d" % port, "--workers", str(workers),
                                 "--config", self.config, *extra],
                   os.path.join(self.tmp, "service.log"), env=env, preexec_fn=preexec_fn)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if self.request("GET", "/health/")[0] == 200:
                    return
            except OSError:
                pass
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        text = self.logs()
        self.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)
        raise AssertionError("service did not become healthy:\n" + text)

    def wait_for_log(self, text, timeout=120, failure=None):
        """Waits until `text` appears in the log; fails at once when `failure` does."""
        deadline = time.monotonic() + timeout
        while text not in self.logs():
            if failure is not None and failure in self.logs():
                raise AssertionError("%r in the log:\n%s" % (failure, self.logs()))
            if time.monotonic() > deadline:
                raise AssertionError("no %r in the log within %d s:\n%s"
                                     % (text, timeout, self.logs()))
            time.sleep(0.05)


class ServiceTest(unittest.TestCase):
    def start(self, *args, **kwargs):
        service = Service(*args, **kwargs)
        self.addCleanup(shutil.rmtree, service.tmp, True)  # after the stop
        self.addCleanup(service.stop)
        return service

    def run_in_thread(self, service, code, globals_dict=None, timeout=60, **kwargs):
        """Sends an execution from a thread; returns (thread, result), where
        result gets "answer" (status, body, headers) and "seconds"."""
        import threading
        result = {}

        def send():
            started = time.monotonic()
            result["answer"] = service.execute(code, globals_dict, timeout=timeout, **kwargs)
            result["seconds"] = time.monotonic() - started

        thread = threading.Thread(target=send)
        thread.start()
        self.addCleanup(thread.join, timeout + 10)
        return thread, result

    def answer_of(self, thread, result, timeout):
        thread.join(timeout)
        self.assertFalse(thread.is_alive(), "the request was not answered within %d s" % timeout)
        self.assertIn("answer", result, "the request failed (see the thread's traceback)")
        return result["answer"]

    def test_process_model_and_privilege_separation(self):
        service = self.start()
        service.wait_workers_ready(2)
        acceptors = [p for p in children(service.proc.pid) if p not in service.workers()]
        self.assertEqual(len(acceptors), 1)
        with open("/proc/%d/status" % acceptors[0]) as f:
            status = f.read()
        self.assertRegex(status, r"Uid:\s+%d\s" % __import__("pwd").getpwnam("codejail").pw_uid)
        self.assertRegex(status, r"CapEff:\s+0+\n")
        self.assertRegex(status, r"CapBnd:\s+0+\n")
        self.assertEqual(len(service.workers()), 2)

    def test_worker_killed_mid_request_gets_see_logs_and_the_pool_recovers(self):
        service = self.start()
        thread, result = self.run_in_thread(service, "import time\ntime.sleep(4)", {"k": 1})
        busy = busy_worker(service)
        self.assertIsNotNone(busy, "no worker picked up the request")
        deadline = time.monotonic() + 30
        sandboxed = []
        while not sandboxed and time.monotonic() < deadline:
            sandboxed = sandbox_processes(among=set(descendants(busy)))
            time.sleep(0.05)
        self.assertNotEqual(sandboxed, [], "no sandboxed process under the busy worker")
        os.kill(busy, signal.SIGKILL)
        status, body, headers = self.answer_of(thread, result, 30)
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(body), {"globals_dict": {"k": 1},
                                            "emsg": "Couldn't execute sandboxed code: See logs."})
        # The sandbox of the dead worker died with it (teardown takes a moment).
        deadline = time.monotonic() + 10
        while sandbox_processes(among=set(sandboxed)) and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertEqual(sandbox_processes(among=set(sandboxed)), [])
        # The pool is whole again and serves.
        service.wait_workers_ready(2)
        self.assertEqual(len(service.workers()), 2)
        for _ in range(3):
            self.assertEqual(service.execute("x = 1 + 1")[1], b'{"globals_dict":{"x":2}}')
        metrics = service.request("GET", "/metrics")[1].decode()
        self.assertIn("codejail_worker_crashes_total 1", metrics)

    def test_stopped_worker_request_is_answered_at_its_deadline(self):
        # A worker's answer deadline is its longest REALTIME plus 30 s: 40 s
        # here. The run sleeps 8 s, far longer than finding the busy worker
        # takes, so it is still running when its worker is stopped (and only
        # the stop keeps its answer from coming).
        realtime = 10
        service = self.start(config(limits={"CPU": 10, "REALTIME": realtime}))
        thread, result = self.run_in_thread(service, "import time\ntime.sleep(8)", {"k": 2},
                                            timeout=realtime + 90)
        busy = busy_worker(service)
        self.assertIsNotNone(busy, "no worker picked up the request")
        os.kill(busy, signal.SIGSTOP)
        try:
            # The other worker keeps serving meanwhile.
            self.assertEqual(service.execute("x = 1 + 1")[1], b'{"globals_dict":{"x":2}}')
            status, body, headers = self.answer_of(thread, result, realtime + 30 + 60)
        finally:
            signal_quietly(busy, signal.SIGCONT)  # the supervisor may have killed it already
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(body), {"globals_dict": {"k": 2},
                                            "emsg": "Couldn't execute sandboxed code: See logs."})
        gave_up = [json.loads(line) for line in service.logs().splitlines()
                   if "worker did not answer within its deadline" in line]
        self.assertEqual(len(gave_up), 1, service.logs())
        self.assertEqual(gave_up[0].get("deadline_ms"), (realtime + 30) * 1000, gave_up[0])
        # Answered at the deadline (its timer starts when the request reaches
        # the worker, after this client started), not before, and not much later.
        deadline = realtime + 30
        self.assertGreater(result["seconds"], deadline - 0.5)
        self.assertLess(result["seconds"], deadline + 15)
        # Killed by the supervisor (or, resumed first, it finds its socket closed
        # and exits); the pool is whole again.
        deadline = time.monotonic() + 30
        while (busy in service.workers() or len(service.workers()) < 2) and time.monotonic() < deadline:
            time.sleep(0.1)
        self.assertNotIn(busy, service.workers())
        self.assertEqual(len(service.workers()), 2)
        for _ in range(3):
            self.assertEqual(service.execute("x = 1 + 1")[1], b'{"globals_dict":{"x":2}}')

    def test_killed_acceptor_is_restarted_and_serves_within_a_second(self):
        service = self.start()
        service.wait_workers_ready(2)
        old = service.acceptor()
        self.assertIsNotNone(old)
        os.kill(old, signal.SIGKILL)
        killed = time.monotonic()
        healthy_after = None
        while time.monotonic() - killed < 10:
            try:
                if service.request("GET", "/health/", timeout=2)[0] == 200:
                    healthy_after = time.monotonic() - killed
                    break
            except OSError:
                pass  # reset by the dying acceptor, or refused without a listener
            time.sleep(0.005)
        print("acceptor SIGKILL -> first 200 on /health/: %s s" % (
            "none" if healthy_after is None else "%.3f" % healthy_after), file=sys.stderr)
        self.assertIsNotNone(healthy_after, service.logs())
        self.assertLess(healthy_after, 1.0)
        self.assertIsNone(service.proc.poll(), "the supervisor exited")
        self.assertNotIn(old, [service.acceptor()])
        # The workers serve the new acceptor.
        service.wait_workers_ready(2, timeout=30)
        for _ in range(3):
            self.assertEqual(service.execute("x = 1 + 1")[1], b'{"globals_dict":{"x":2}}')
        self.assertEqual(len(service.workers()), 2)

    def test_killed_supervisor_takes_every_process_down_at_once(self):
        # systemd restarts a clean service only if nothing of the old one
        # lingers: not the acceptor, not a worker, not a run below a worker.
        # One worker, busy, and a second request queued behind it: an
        # acceptor left running would wait out that request's queue timeout.
        service = self.start(config(queue_timeout_seconds=3), workers=1)
        service.wait_workers_ready(1)
        self.run_in_thread(service, "import time\ntime.sleep(20)", timeout=30)
        self.assertIsNotNone(busy_worker(service), "no worker picked up the request")
        self.run_in_thread(service, "x = 1", timeout=30)
        deadline = time.monotonic() + 10
        queued = False
        while not queued and time.monotonic() < deadline:
            queued = b"\ncodejail_queue_depth 1\n" in service.request("GET", "/metrics")[1]
            time.sleep(0.01)
        self.assertTrue(queued, "the second request never queued")
        tree = descendants(service.proc.pid)
        deadline = time.monotonic() + 10
        while not sandbox_processes(tree) and time.monotonic() < deadline:
            time.sleep(0.01)
            tree = descendants(service.proc.pid)
        self.assertTrue(sandbox_processes(tree), "the run's interpreter never started")
        service.proc.kill()
        service.proc.wait()
        killed = time.monotonic()
        while time.monotonic() - killed < 1:
            left = [p for p in tree if running(p)] + sandbox_processes()
            if not left:
                break
            time.sleep(0.01)
        self.assertEqual(left, [], "still running 1 s after the supervisor's SIGKILL:\n%s"
                         % "\n".join(b" ".join(cmdline(p)).decode() for p in left))

    def test_worker_stopped_past_its_deadline_is_killed_and_replaced(self):
        # The deadline is REALTIME + 30 s. The run sleeps long enough for the
        # test to find its worker busy, which then never resumes.
        realtime = 2
        service = self.start(config(limits={"CPU": 2, "REALTIME": realtime}))
        service.wait_workers_ready(2)
        thread, result = self.run_in_thread(service, "import time\ntime.sleep(1.8)", {"k": 3},
                                            timeout=realtime + 90)
        busy = busy_worker(service)
        self.assertIsNotNone(busy, "no worker picked up the request")
        os.kill(busy, signal.SIGSTOP)
        self.addCleanup(signal_quietly, busy, signal.SIGCONT)
        status, body, _ = self.answer_of(thread, result, realtime + 30 + 30)
        self.assertEqual((status, json.loads(body)),
                         (200, {"globals_dict": {"k": 3},
                                "emsg": "Couldn't execute sandboxed code: See logs."}))
        # Still stopped, it is killed and its slot gets a new worker.
        deadline = time.monotonic() + 5
        while running(busy) and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertFalse(running(busy), "the stopped worker was left in place:\n" + service.logs())
        service.wait_workers_ready(2, timeout=30)
        self.assertEqual(len(service.workers()), 2)
        for _ in range(3):
            self.assertEqual(service.execute("x = 1 + 1")[1], b'{"globals_dict":{"x":2}}')

    def test_health_turns_503_while_executions_fail_for_machinery_reasons(self):
        # The sandbox disk: a small tmpfs that the test fills and empties.
        root = tempfile.mkdtemp(prefix="cjs-heal-sandbox-root-")
        self.addCleanup(shutil.rmtree, root, True)
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", root], check=True)
        self.addCleanup(subprocess.run, ["umount", "-l", root])
        # Warm start off: a sandbox prestarted before the disk filled would
        # serve a request, and each run's removal would free the room the
        # next prestart needs, so executions would not fail at all.
        service = self.start(config(sandbox_root=root, warm_start="false"))
        service.wait_workers_ready(2)
        self.assertEqual(service.execute("x = 1")[1], b'{"globals_dict":{"x":1}}')
        filler = os.path.join(root, "filler")
        with open(filler, "wb", buffering=0) as f:
            try:
                while True:
                    f.write(b"\0" * 65536)
            except OSError:
                pass  # full
        see_logs = {"globals_dict": {}, "emsg": "Couldn't execute sandboxed code: See logs."}
        for attempt in range(5):
            self.assertEqual(service.request("GET", "/health/")[0], 200, "after %d" % attempt)
            status, body, _ = service.execute("x = 1")
            self.assertEqual((status, json.loads(body)), (200, see_logs))
        self.assertEqual(service.request("GET", "/health/")[:2],
                         (503, b'{"status": "UNAVAILABLE"}'))
        os.unlink(filler)
        self.assertEqual(service.execute("x = 1")[1], b'{"globals_dict":{"x":1}}')
        self.assertEqual(service.request("GET", "/health/")[:2], (200, b'{"status": "OK"}'))
        self.assertIn("executions keep failing for machinery reasons", service.logs())

    def test_sigterm_drains_in_flight_requests(self):
        service = self.start()
        thread, result = self.run_in_thread(service, "import time\ntime.sleep(1.5)\nx = 5")
        # In flight: a worker is running it.
        self.assertIsNotNone(busy_worker(service), "no worker picked up the request")
        service.proc.send_signal(signal.SIGTERM)
        status, body, _ = self.answer_of(thread, result, 60)
        self.assertEqual(status, 200)
        self.assertEqual(body, b'{"globals_dict":{"x":5}}')
        self.assertEqual(service.proc.wait(30), 0)
        with self.assertRaises(OSError):
            service.request("GET", "/health/", timeout=1)

    def test_overload_answers_503_with_retry_after(self):
        service = self.start(config(queue_limit=1, queue_timeout_seconds=5), workers=1)
        service.wait_workers_ready(1)
        import threading
        results = []
        threads = [threading.Thread(target=lambda: results.append(
            service.execute("import time\ntime.sleep(1)"))) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        self.assertEqual(len(results), 4, "not every request was answered")
        statuses = sorted(r[0] for r in results)
        self.assertIn(200, statuses)
        self.assertIn(503, statuses)
        for status, body, headers in results:
            if status == 503:
                self.assertEqual(headers.get("Retry-After"), "1")
                self.assertEqual(headers.get("Content-Type"), "application/json")
                self.assertIn("error", json.loads(body))

    def test_queue_timeout_answers_503(self):
        service = self.start(config(queue_limit=10, queue_timeout_seconds=0.5), workers=1)
        # The only worker ready, then busy for 3 s: the second request waits
        # in the queue, where 0.5 s end it.
        service.wait_workers_ready(1)
        first, first_result = self.run_in_thread(service, "import time\ntime.sleep(3)")
        self.assertIsNotNone(busy_worker(service), "no worker picked up the first request")
        second, second_result = self.run_in_thread(service, "x = 1")
        statuses = [self.answer_of(first, first_result, 60)[0],
                    self.answer_of(second, second_result, 60)[0]]
        self.assertEqual(statuses, [200, 503])

    def test_malformed_http_gets_a_clean_400(self):
        service = self.start()
        with socket.create_connection(("127.0.0.1", service.port), timeout=30) as s:
            s.sendall(b"GARBAGE\x00 / HTTP/9.9\r\n\r\n")
            data = s.recv(65536)
        self.assertTrue(data.startswith(b"HTTP/1.1 400"), data)
        self.assertIn(b"Content-Type: application/json", data)
        self.assertEqual(service.execute("x = 1")[:2], (200, b'{"globals_dict":{"x":1}}'))

    def test_oversized_body_gets_413(self):
        service = self.start(config(max_body_bytes=1048576))
        body = b"payload=" + b"a" * (2 << 20)
        status, data, _ = service.request(
            "POST", "/api/v0/code-exec", body,
            {"Content-Type": "application/x-www-form-urlencoded"}, timeout=30)
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
        start = time.monotonic()
        # Trickle a header byte per second; the 5 s header deadline ends it
        # (the server closes: end of stream, or a reset).
        try:
            while time.monotonic() - start < 25:
                s.sendall(b"X")
                s.settimeout(1)
                try:
                    if s.recv(1) == b"":
                        break
                except socket.timeout:
                    pass
        except OSError:
            pass
        elapsed = time.monotonic() - start
        s.close()
        self.assertLess(elapsed, 15)
        self.assertEqual(service.request("GET", "/health/")[0], 200)

    def test_sighup_reloads_the_config_for_new_workers(self):
        recycle = {"max_requests": 1, "max_requests_jitter": 0}
        service = self.start(config(limits={"REALTIME": 1}, **recycle), workers=1)
        self.assertIn(b"-9", service.execute("import time\ntime.sleep(1.5)")[1])
        with open(service.config, "w") as f:
            f.write(config(**recycle))
        service.proc.send_signal(signal.SIGHUP)
        # The reload runs the startup probes with the new file first.
        service.wait_for_log("configuration reloaded", failure="keeping the previous one")
        # The worker that serves this has recycled once it answers (max 1);
        # the next worker starts after the reload.
        service.execute("x = 1")
        self.assertEqual(service.execute("import time\ntime.sleep(1.5)\nx = 2")[1],
                         b'{"globals_dict":{"x":2}}')

    def test_sighup_reload_applies_max_requests_and_jitter_to_new_workers(self):
        # Started with workers that recycle late and at random, reloaded with
        # workers that recycle after every request: the workers started after
        # the reload must run with the new values (passed on their command
        # line), and do what they say.
        service = self.start(config(max_requests=1000, max_requests_jitter=1000), workers=1)
        service.wait_workers_ready(1)
        before = service.workers()
        self.assertEqual(len(before), 1)
        with open(service.config, "w") as f:
            f.write(config(max_requests=1, max_requests_jitter=0))
        service.proc.send_signal(signal.SIGHUP)
        service.wait_for_log("configuration reloaded", failure="keeping the previous one")
        # The worker from before the reload keeps its old count; an idle one
        # that goes away is replaced by a worker started after the reload.
        os.kill(before[0], signal.SIGKILL)
        after = wait_for_new_worker(service, set(before))
        self.assertEqual(worker_max_requests(after), 1)
        service.wait_workers_ready(1)
        self.assertEqual(service.execute("x = 1")[1], b'{"globals_dict":{"x":1}}')
        # It answered once, so it leaves, and the next one (also after the
        # reload) takes its place and does the same.
        following = wait_for_new_worker(service, set(before) | {after})
        self.assertEqual(worker_max_requests(following), 1)
        service.wait_workers_ready(1)
        self.assertEqual(service.execute("x = 2")[1], b'{"globals_dict":{"x":2}}')
        wait_for_new_worker(service, set(before) | {after, following})

    def test_metrics_count_limit_hits_and_warm_starts(self):
        service = self.start(config(limits={"CPU": 10, "REALTIME": 1}, workers=1), workers=1)
        service.wait_workers_ready(1)
        status, body, _ = service.execute("while True:\n    pass\n")
        self.assertEqual(status, 200)
        self.assertIn("status code: -9", json.loads(body)["emsg"])
        self.assertEqual(service.execute("x = 1")[1], b'{"globals_dict":{"x":1}}')
        metrics = service.request("GET", "/metrics")[1].decode()
        self.assertIn('codejail_exec_limit_hits_total{limit="realtime"} 1\n', metrics)
        self.assertIn('codejail_exec_limit_hits_total{limit="cpu"} 0\n', metrics)
        # The embedded default has warm start on: the worker's first sandbox
        # is started when it comes up, the next after each answer.
        self.assertIn('codejail_exec_starts_total{start="warm"} 2\n', metrics)
        self.assertIn('codejail_exec_starts_total{start="cold"} 0\n', metrics)
        self.assertRegex(metrics, r'\ncodejail_build_info\{version="[0-9.]+"\} 1\n')
        self.assertRegex(metrics, r"\nprocess_resident_memory_bytes [1-9][0-9]*\n")

    def test_workers_recycle_after_max_requests(self):
        service = self.start(config(max_requests=2, max_requests_jitter=0), workers=1)
        service.wait_workers_ready(1)
        first = service.workers()
        self.assertEqual(len(first), 1)
        for i in range(5):
            self.assertEqual(service.execute("x = %d" % i)[1], b'{"globals_dict":{"x":%d}}' % i)
        # The first worker left after its second answer.
        deadline = time.monotonic() + 30
        while first[0] in service.workers() and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertNotIn(first[0], service.workers())
        metrics = service.request("GET", "/metrics")[1].decode()
        self.assertRegex(metrics, r"codejail_worker_recycles_total [12]\n")
        self.assertIn("codejail_worker_crashes_total 0", metrics)

    def test_logs_are_json_lines_without_code(self):
        service = self.start()
        self.assertEqual(service.execute("secret_marker_xyz = 1")[0], 200)
        service.stop()
        lines = [l for l in service_logs_lines(service) if l.strip()]
        self.assertTrue(lines)
        for line in lines:
            json.loads(line)
        self.assertNotIn("secret_marker_xyz", "\n".join(lines))
        self.assertTrue(any('"codejail.exec.status":"executed.success"' in l for l in lines))

    def test_max_connections_defers_accepting_until_a_connection_closes(self):
        service = self.start(config(max_connections=20))
        held = hold_served_connections(service, 20)
        fresh = send_health_request(service)
        try:
            # Accepted by the kernel (the backlog) but not by the service.
            fresh.settimeout(1)
            with self.assertRaises(socket.timeout):
                fresh.recv(65536)
            held.pop().close()
            fresh.settimeout(30)
            self.assertTrue(fresh.recv(65536).startswith(b"HTTP/1.1 200"))
        finally:
            fresh.close()
            for conn in held:
                conn.close()
        self.assertEqual(service.request("GET", "/health/")[0], 200)
        self.assertIn("max_connections reached", service.logs())

    def test_queue_limit_zero_serves_when_a_worker_is_idle(self):
        service = self.start(config(queue_limit=0), workers=1)
        # /health/ reflects the probes; the worker may still be saying hello,
        # and one that is starting is not idle.
        service.wait_workers_ready(1)
        self.assertEqual(service.execute("x = 1")[:2], (200, b'{"globals_dict":{"x":1}}'))
        # With the only worker busy, nothing may wait: 503 at once.
        thread, result = self.run_in_thread(service, "import time\ntime.sleep(3)")
        self.assertIsNotNone(busy_worker(service), "no worker picked up the request")
        status, body, headers = service.execute("x = 2")
        self.assertEqual(status, 503)
        self.assertEqual(headers.get("Retry-After"), "1")
        self.assertEqual(self.answer_of(thread, result, 60)[0], 200)
        self.assertEqual(service.execute("x = 3")[1], b'{"globals_dict":{"x":3}}')

    def test_idle_connections_beyond_max_connections_do_not_flood_the_log(self):
        service = self.start(config(max_connections=20))
        held = hold_served_connections(service, 20)
        # 40 more that never send anything wait in the listen backlog.
        held += [socket.create_connection(("127.0.0.1", service.port), timeout=30)
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
        self.assertEqual(service.request("GET", "/health/", timeout=30)[0], 200)
        self.assertLess(len(service.logs().splitlines()), 100)

    def test_accept_errors_back_off_without_flooding_the_log(self):
        # An open-file limit below max_connections: the acceptor runs into
        # EMFILE. It must neither spin nor log every failed accept. (1024, a
        # common default, is about the least the jail workers need.)
        import math
        import resource
        nofile = 1024
        clients = nofile + 100
        # This process holds every client socket: its own soft limit must
        # allow them (1024 is a common default; the hard limit may be raised to).
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        need = clients + 256
        if soft != resource.RLIM_INFINITY and soft < need:
            if hard != resource.RLIM_INFINITY and hard < need:
                self.skipTest("needs %d open files in the test process for %d client sockets; "
                              "the hard RLIMIT_NOFILE here is %d" % (need, clients, hard))
            resource.setrlimit(resource.RLIMIT_NOFILE, (need, hard))
            self.addCleanup(resource.setrlimit, resource.RLIMIT_NOFILE, (soft, hard))

        def low_nofile():
            resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))

        # Every client comes from 127.0.0.1: the per-address cap is lifted so
        # that the descriptor limit, not the cap, is what the acceptor meets.
        service = self.start(config(max_connections=100000, max_connections_per_ip=100000),
                             preexec_fn=low_nofile)
        started = time.monotonic()
        held = []
        try:
            held += [socket.create_connection(("127.0.0.1", service.port), timeout=30)
                     for _ in range(clients)]
            time.sleep(3)
            with self.assertRaises(OSError):  # no descriptor left for it
                service.request("GET", "/health/", timeout=1)
        finally:
            for conn in held:
                conn.close()
        # Closed connections free descriptors; the 100 ms retry picks up again.
        deadline = time.monotonic() + 30
        while True:
            try:
                if service.request("GET", "/health/", timeout=1)[0] == 200:
                    break
            except OSError:
                time.sleep(0.1)
            self.assertLess(time.monotonic(), deadline, "/health/ did not recover")
        elapsed = time.monotonic() - started
        logs = service.logs()
        failures = [l for l in logs.splitlines() if "accept failed" in l]
        self.assertGreaterEqual(len(failures), 1)
        # At most one a second over the time accepts could fail (measured).
        self.assertLessEqual(len(failures), math.ceil(elapsed) + 1,
                             "%d accept failures logged in %.1f s" % (len(failures), elapsed))
        self.assertIn('"suppressed"', failures[-1])
        self.assertLess(len(logs.splitlines()), 100)

    def test_acceptor_memory_is_bounded_by_max_buffered_body_bytes(self):
        # 40 clients each send all but one byte of a maximal (32 MiB) body
        # and wait; unbounded, the acceptor held 1.38 GB.
        budget = 64 << 20
        body_size = 32 << 20
        service = self.start(config(max_buffered_body_bytes=budget), workers=1)
        acceptor = service.acceptor()
        self.assertIsNotNone(acceptor)
        header = ("POST /api/v0/code-exec HTTP/1.1\r\nHost: x\r\n"
                  "Content-Type: application/x-www-form-urlencoded\r\n"
                  "Content-Length: %d\r\n\r\n" % body_size).encode()
        body = b"x" * (body_size - 1)
        answers = []

        def client():
            s = socket.create_connection(("127.0.0.1", service.port), timeout=60)
            try:
                s.sendall(header)
                try:
                    s.sendall(body)
                except OSError:
                    pass  # refused and closed while still sending
                s.settimeout(2)
                try:
                    answers.append(s.recv(65536))
                except socket.timeout:
                    answers.append(b"")  # its body fit: it waits for the rest
                time.sleep(3)  # hold what fit while the RSS is read
            finally:
                s.close()

        threads = [threading.Thread(target=client) for _ in range(40)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        with open("/proc/%d/status" % acceptor) as f:
            status = dict(line.split(":", 1) for line in f if ":" in line)
        peak = int(status["VmHWM"].split()[0]) * 1024
        print("acceptor peak RSS %.1f MiB (budget %d MiB)" % (peak / 2**20, budget >> 20),
              file=sys.stderr)
        refused = [a for a in answers if a.startswith(b"HTTP/1.1 503")]
        self.assertGreaterEqual(len(refused), 40 - budget // body_size)
        self.assertIn(b"Too many request bodies in progress; retry later", refused[0])
        self.assertIn(b"\r\nRetry-After: 1\r\n", refused[0])
        self.assertLess(peak, budget + (64 << 20))
        self.assertEqual(service.request("GET", "/health/")[0], 200)

    def test_half_headers_from_one_address_do_not_delay_another(self):
        # A slowloris: one address opens connections and sends half a header
        # on each. Beyond max_connections_per_ip they are closed at once, so
        # they cannot fill max_connections and hold out other clients.
        service = self.start(config(max_connections=100, max_connections_per_ip=64))
        held = []
        for _ in range(150):
            s = socket.create_connection(("127.0.0.1", service.port), timeout=30)
            s.sendall(b"GET /health/ HTTP/1.1\r\nHost: x\r\n")
            held.append(s)
        time.sleep(0.5)
        start = time.monotonic()
        try:
            other = socket.create_connection(("127.0.0.1", service.port), timeout=30,
                                             source_address=("127.0.0.2", 0))
            other.sendall(b"GET /health/ HTTP/1.1\r\nHost: x\r\n\r\n")
            answer = other.recv(65536)
            other.close()
        finally:
            for s in held:
                s.close()
        elapsed = time.monotonic() - start
        print("another address answered after %.2f s" % elapsed, file=sys.stderr)
        self.assertTrue(answer.startswith(b"HTTP/1.1 200"), answer)
        self.assertLess(elapsed, 2)
        self.assertIn("max_connections_per_ip reached", service.logs())


def running(pid):
    """Whether `pid` exists and is not a zombie."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"


def signal_quietly(pid, sig):
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def hold_served_connections(service, count):
    """`count` keep-alive connections, each served once (so the service has
    certainly accepted it) and then left idle."""
    held = []
    for _ in range(count):
        conn = http.client.HTTPConnection("127.0.0.1", service.port, timeout=30)
        conn.request("GET", "/health/")
        response = conn.getresponse()
        response.read()
        assert response.status == 200, response.status
        held.append(conn)
    return held


def send_health_request(service):
    s = socket.create_connection(("127.0.0.1", service.port), timeout=30)
    s.sendall(b"GET /health/ HTTP/1.1\r\nHost: x\r\n\r\n")
    return s


def wait_for_new_worker(service, known, timeout=30):
    """A worker that is not one of `known` (pids), once it exists."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        fresh = [w for w in service.workers() if w not in known]
        if fresh:
            return fresh[0]
        time.sleep(0.05)
    raise AssertionError("no new worker within %d s (workers: %s, known: %s):\n%s"
                         % (timeout, service.workers(), sorted(known), service.logs()))


def worker_max_requests(pid):
    """The --max-requests a worker was started with."""
    argv = [a.decode() for a in cmdline(pid)]
    return int(argv[argv.index("--max-requests") + 1])


def service_logs_lines(service):
    with open(service.log.name) as f:
        return f.read().splitlines()


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: test_service.py <build dir>")
    BUILD = os.path.abspath(sys.argv.pop(1))
    unittest.main(argv=[sys.argv[0]] + sys.argv[1:], verbosity=2)
