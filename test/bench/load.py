"""Load phases with wrk (Debian's, LuaJIT): fixed duration, N connections."""

import os
import shutil
import subprocess
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
LUA = os.path.join(HERE, "wrk_post.lua")
# Far above any answer (queued requests wait up to queue_timeout_seconds):
# a request is never cut short by the client.
WRK_TIMEOUT = "60s"


class RequestSpec:
    """A prepared request written where wrk_post.lua reads it."""

    def __init__(self, prepared, expected_body, connection_close=False):
        self.dir = tempfile.mkdtemp(prefix="cjs-bench-wrk-")
        body = prepared.body if isinstance(prepared.body, bytes) else prepared.body.encode()
        with open(os.path.join(self.dir, "body"), "wb") as f:
            f.write(body)
        headers = dict(prepared.headers)
        if connection_close:
            # edxapp's requests.post() opens a connection per request and
            # drops it afterwards; Connection: close makes wrk do the same.
            headers["Connection"] = "close"
        with open(os.path.join(self.dir, "headers"), "w") as f:
            for name, value in headers.items():
                f.write("%s: %s\n" % (name, value))
        with open(os.path.join(self.dir, "expect"), "wb") as f:
            f.write(expected_body)
        self.body_bytes = len(body)

    def close(self):
        shutil.rmtree(self.dir, ignore_errors=True)


class PhaseResult:
    def __init__(self, values, clients, seconds):
        self.clients = clients
        self.seconds = seconds
        self.requests = int(values["requests"])
        self.duration = int(values["duration_us"]) / 1e6
        self.non_200 = int(values["non_200"])
        self.wrong = int(values["wrong"])
        self.socket_errors = int(values["socket_errors"])
        self.first_wrong = values.get("first_wrong", "")
        self.p50 = int(values["p50_us"]) / 1e6
        self.p90 = int(values["p90_us"]) / 1e6
        self.p99 = int(values["p99_us"]) / 1e6
        self.rps = self.requests / self.duration if self.duration > 0 else 0.0

    @property
    def ok(self):
        return self.requests > 0 and self.non_200 == 0 and self.wrong == 0 and self.socket_errors == 0


def run_phase(base_url, spec, clients, seconds, on_start=None):
    """wrk -c clients for `seconds`; returns a PhaseResult."""
    threads = min(clients, 2)
    argv = ["wrk", "-t%d" % threads, "-c%d" % clients, "-d%ds" % seconds, "--timeout", WRK_TIMEOUT,
            "-s", LUA, base_url]
    env = dict(os.environ, CJS_BENCH_SPEC=spec.dir)
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    if on_start:
        on_start(proc)
    out, err = proc.communicate()
    values = {}
    for line in out.decode("utf-8", "replace").splitlines():
        if line.startswith("cjs-bench "):
            key, _, value = line[len("cjs-bench "):].partition(" ")
            values[key] = value
    if proc.returncode != 0 or "requests" not in values:
        raise RuntimeError("wrk failed (%d): %s %s" % (proc.returncode, out.decode()[-2000:],
                                                      err.decode()[-2000:]))
    return PhaseResult(values, clients, seconds)
