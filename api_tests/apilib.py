"""Helpers shared by the black-box API tests (imported by the test modules).

Everything here talks to the service only over HTTP, exactly as edxapp's
remote-exec client does, and builds expected response bodies from
docs/api.md's rules, never from the service's code.
"""

import io
import ipaddress
import json
import os
import re
import socket
import time
import urllib.parse
import zipfile

import requests

BASE = os.environ.get("API_TEST_SERVICE_BASE", "").rstrip("/")
EXEC_PATH = "/api/v0/code-exec"
EXEC_URL = BASE + EXEC_PATH
HEALTH_URL = BASE + "/health/"

# Generous: these bound a broken service, not the API's latency (tests that
# care about latency measure it themselves).
# Generous: under the ASan build on a loaded 2-core machine a 20 MiB
# request legitimately takes tens of seconds. Latency is not asserted here.
TIMEOUT = (5, 180)

JSON_TYPE = "application/json"

# The embedded default limits (codejail-run --print-default-config): CPU 3,
# REALTIME 3, VMEM 536870912 (512 MiB), FSIZE 1048576 (1 MiB), NPROC 15,
# edx-platform's production values with more CPU (not the codejail library's
# CPU 1, REALTIME 1, VMEM 0, FSIZE 0, which a file omitting CODE_JAIL.limits
# gets). DEFAULT_REALTIME is what the tests of "the default limits" expect a
# time kill to take; the others are what the code must see.
DEFAULT_CPU = 3
DEFAULT_REALTIME = 3.0
DEFAULT_VMEM = 536870912
DEFAULT_FSIZE = 1048576
DEFAULT_NPROC = 15

# A test that must pass at the default limits but whose code costs real time
# (importing a course package, matplotlib, filling VMEM) first runs the same
# code with ample time; when that took more than this share of
# DEFAULT_REALTIME, the host is too slow to judge the default limits at that
# moment and the test is skipped with a reason starting TOO_SLOW_TO_JUDGE
# (conftest.py's at_default_limits fixture, which counts them at the end).
JUDGE_SHARE_OF_REALTIME = 2 / 3
TOO_SLOW_TO_JUDGE = "this host is too slow to judge the default limits now"

# limit_overrides_context names the runner configures (README.md); unset
# against a deployment that has none.
#   ample: {CPU: 10, REALTIME: 20}, VMEM/FSIZE/NPROC left at the defaults.
#   production: {CPU: 3, REALTIME: 3, VMEM: 512 MiB, FSIZE: 1 MiB} (api.md 5's
#     typical production limits; the embedded defaults are the same values).
#   production-ample: the production VMEM and FSIZE with ample time.
#   vmem-0: {VMEM: 0}, the default limits with VMEM off.
#   fsize-0: {FSIZE: 0}, the default limits with FSIZE 0 (no bytes at all).
AMPLE_CONTEXT = os.environ.get("API_TEST_AMPLE_CONTEXT") or None
PRODUCTION_CONTEXT = os.environ.get("API_TEST_PRODUCTION_CONTEXT") or None
PRODUCTION_AMPLE_CONTEXT = os.environ.get("API_TEST_PRODUCTION_AMPLE_CONTEXT") or None
VMEM_0_CONTEXT = os.environ.get("API_TEST_VMEM_0_CONTEXT") or None
FSIZE_0_CONTEXT = os.environ.get("API_TEST_FSIZE_0_CONTEXT") or None


class _Limits:
    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return "apilib." + self.name


# Values of execute()'s limit_overrides_context besides a context name (or
# None, sent as null):
# AMPLE (the default): the ample context when one is configured, so that a
#   slow or loaded host cannot turn an expected answer into a time kill; with
#   none configured the key is left out (the deployment's default limits).
# DEFAULT_LIMITS: the key is left out, for the tests *about* the default
#   limits (a REALTIME kill, the default VMEM/FSIZE/NPROC, ...).
AMPLE = _Limits("AMPLE")
DEFAULT_LIMITS = _Limits("DEFAULT_LIMITS")


def production_ample_context():
    """The context with production VMEM and FSIZE but ample time, for tests
    about memory, files or heavy imports (not about time); else the plain
    production context; else None."""
    return PRODUCTION_AMPLE_CONTEXT or PRODUCTION_CONTEXT


def vmem_0_context():
    """The context with VMEM 0 (off) and the other limits at their defaults:
    a memory bomb is then bounded by the run's cgroup memory cap
    (memory_limit_bytes) and REALTIME, not by RLIMIT_AS. Skips the calling
    test, saying why, when none is configured."""
    if not VMEM_0_CONTEXT:
        _skip("needs API_TEST_VMEM_0_CONTEXT: a limit_overrides_context configured with {VMEM: 0} "
              "(the embedded default VMEM is 512 MiB; run_against_built_service configures one)")
    return VMEM_0_CONTEXT


def fsize_0_context():
    """The context with FSIZE 0 (the codejail library's default; api.md 5: 0
    means no bytes at all) and the other limits at their defaults (FSIZE
    1 MiB). Skips the calling test, saying why, when none is configured."""
    if not FSIZE_0_CONTEXT:
        _skip("needs API_TEST_FSIZE_0_CONTEXT: a limit_overrides_context configured with {FSIZE: 0} "
              "(the embedded default FSIZE is 1 MiB; run_against_built_service configures one)")
    return FSIZE_0_CONTEXT


def _skip(reason):
    import pytest
    print(reason)
    pytest.skip(reason)


def ample_time_context():
    """A context with ample time and the default VMEM and FSIZE (production
    values), for measuring what code costs on this host before running it at
    the default limits: production-ample, else ample; else None."""
    return PRODUCTION_AMPLE_CONTEXT or AMPLE_CONTEXT

MACHINERY_FAILURE = "Couldn't execute sandboxed code: See logs."
CORRUPTED_STDOUT = "Sandboxed code produced corrupted stdout."

# The sandbox dir name as the code sees it (api.md 3.2).
SANDBOX_DIR_RE = re.compile(r"/tmp/codejail-[a-z0-9_]{8}")
SANDBOX_DIR_FULL_RE = re.compile(r"^/tmp/codejail-[a-z0-9_]{8}$")

# attempt(f, *args): 'ok', or "<ExceptionType>: <str(e)>", i.e. exactly a
# traceback's last line such as
# "PermissionError: [Errno 13] Permission denied: '/etc/hosts'".
PY_ATTEMPT = (
    "def attempt(f, *args, **kwargs):\n"
    "    try:\n"
    "        f(*args, **kwargs)\n"
    "    except BaseException as e:\n"
    "        return type(e).__name__ + ': ' + str(e)\n"
    "    return 'ok'\n"
)

# PY_ATTEMPT plus sc(nr, *args): a raw system call through ctypes that
# returns 'ok' or the errno's symbolic name ('EPERM').
PY_SYSCALL = PY_ATTEMPT + (
    "import ctypes as _ct, errno as _errno\n"
    "_libc = _ct.CDLL(None, use_errno=True)\n"
    "_libc.syscall.restype = _ct.c_long\n"
    "def sc(nr, *args):\n"
    "    conv = [_ct.c_long(a) if isinstance(a, int) else a for a in args]\n"
    "    _ct.set_errno(0)\n"
    "    r = _libc.syscall(_ct.c_long(nr), *conv)\n"
    "    if r == -1:\n"
    "        e = _ct.get_errno()\n"
    "        return _errno.errorcode.get(e, str(e))\n"
    "    return 'ok'\n"
)


def silent_kill(status):
    """The emsg of a run that printed nothing and ended with `status`."""
    return "Couldn't execute jailed code: stdout: b'', stderr: b'' with status code: %d" % status


def jailed_emsg(stdout, stderr, status):
    """api.md 3.2: the emsg of a non-zero exit, with CPython's bytes repr."""
    return "Couldn't execute jailed code: stdout: %r, stderr: %r with status code: %d" % (
        bytes(stdout), bytes(stderr), status)


def normalize(text):
    """Replaces the sandbox dir's random part as edxapp does before comparing."""
    return SANDBOX_DIR_RE.sub("/tmp/codejail-XXXXXXXX", text)


# ----------------------------------------------------------------- rendering

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def render(value):
    """The exact bytes the REST framework's JSON renderer produces for
    `value` (api.md 3): compact separators, raw UTF-8, U+2028/U+2029
    escaped, NaN/Infinity as bare tokens, a lone surrogate as a \\udxxx
    escape."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=True)
    text = text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    text = _LONE_SURROGATE.sub(lambda m: "\\u%04x" % ord(m.group()), text)
    return text.encode("utf-8")


def exec_body(globals_dict, emsg=None):
    """The exact body of an execution response (api.md 3)."""
    body = {"globals_dict": globals_dict}
    if emsg is not None:
        body["emsg"] = emsg
    return render(body)


def error_body(message):
    return render({"error": message})


def detail_body(message):
    return render({"detail": message})


# ------------------------------------------------------------------ requests

def post_payload(payload, files=None, timeout=TIMEOUT, url=None):
    """POST exactly as edxapp's client does: data={"payload": json.dumps(p)}
    (and files=[...] when there is a course library)."""
    text = payload if isinstance(payload, str) else json.dumps(payload)
    return requests.post(url or EXEC_URL, data={"payload": text}, files=files, timeout=timeout)


def post_raw(body, content_type=None, url=None, timeout=TIMEOUT, headers=None):
    """POST a hand-made body with the given Content-Type (None: no header)."""
    h = dict(headers or {})
    if content_type is not None:
        h["Content-Type"] = content_type
    return requests.post(url or EXEC_URL, data=body, headers=h, timeout=timeout)


def execute(code, globals_dict=None, files=None, timeout=TIMEOUT, limit_overrides_context=AMPLE, **extra):
    """POSTs {"code", "globals_dict", **extra} with the limits named by
    limit_overrides_context: a context name, None (sent as null), AMPLE (the
    default) or DEFAULT_LIMITS (both described above)."""
    payload = {"code": code, "globals_dict": {} if globals_dict is None else globals_dict}
    payload.update(extra)
    if limit_overrides_context is AMPLE:
        limit_overrides_context = AMPLE_CONTEXT if AMPLE_CONTEXT is not None else DEFAULT_LIMITS
    if limit_overrides_context is not DEFAULT_LIMITS:
        payload["limit_overrides_context"] = limit_overrides_context
    return post_payload(payload, files=files, timeout=timeout)


def ample_payload_fields():
    """The JSON text of ', "limit_overrides_context": "<ample>"' (or '' when
    none is configured), for hand-written payload texts."""
    if AMPLE_CONTEXT is None:
        return ""
    return ', "limit_overrides_context": ' + json.dumps(AMPLE_CONTEXT)


def check_json_response(resp, status=200):
    """Status and the exact Content-Type of a JSON answer."""
    assert resp.status_code == status, (resp.status_code, resp.content[:2000])
    assert resp.headers.get("Content-Type") == JSON_TYPE, resp.headers
    return resp


def body_of(resp, status=200):
    """The parsed JSON body of an answer (NaN, big ints and surrogates kept)."""
    check_json_response(resp, status)
    return json.loads(resp.content.decode("utf-8"))


def run(code, globals_dict=None, files=None, **extra):
    """Executes `code`; returns the parsed 200 body ({"globals_dict": ..., "emsg"?})."""
    return body_of(execute(code, globals_dict, files=files, **extra))


def run_globals(code, globals_dict=None, files=None, **extra):
    """Executes `code` that must succeed; returns its globals."""
    body = run(code, globals_dict, files=files, **extra)
    assert "emsg" not in body, body.get("emsg")
    return body["globals_dict"]


def assert_error(resp, status, message):
    """api.md 2.2: {"error": "<message>"} exactly, compact, application/json."""
    check_json_response(resp, status)
    assert resp.content == error_body(message), resp.content[:2000]


def make_zip(members, compression=zipfile.ZIP_DEFLATED):
    """A zip of {name: bytes or str}."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return out.getvalue()


# -------------------------------------------------------------- the service

def health():
    return requests.get(HEALTH_URL, timeout=TIMEOUT)


CLEAN_CODE = (
    "import os\n"
    "x = x + 1\n"
    "left = sorted(os.listdir('tmp'))\n"
    "leak = 'CJS_TEST_ENV_LEAKAGE' in os.environ\n"
)


def assert_service_fine():
    """After an attack: /health/ still 200 and the next run is clean (a fresh
    empty tmp/, the default globals semantics, nothing left of the attack).
    The clean run gets ample time (execute's default): what is checked is
    its answer, not the host's speed."""
    h = health()
    assert h.status_code == 200, (h.status_code, h.content)
    assert h.content == b'{"status": "OK"}'
    resp = execute(CLEAN_CODE, {"x": 16})
    check_json_response(resp)
    assert resp.content == exec_body({"x": 17, "left": [], "leak": False}), resp.content[:2000]


def service_host_port():
    parts = urllib.parse.urlsplit(BASE)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return parts.hostname, port


def service_is_local():
    """Whether the service runs on this machine's loopback (then tests may
    also look at the host, e.g. for processes that outlived a run)."""
    host, _ = service_host_port()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def processes_named(comm):
    """Pids of local processes whose comm is `comm`."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/comm" % entry) as f:
                if f.read().strip() == comm:
                    found.append(int(entry))
        except OSError:
            continue
    return found


# The first sandbox uid of the service (CODEJAIL_SERVICE.sandbox_uid_base),
# when the runner says; its executions run as this + slot (0-255), a block
# no other service or suite on this host uses.
SANDBOX_UID_BASE = int(os.environ["API_TEST_SANDBOX_UID_BASE"]) if os.environ.get("API_TEST_SANDBOX_UID_BASE") else None


def sandbox_uid_processes():
    """(pid, uid, comm) of local processes running as one of the service's
    sandbox uids (needs SANDBOX_UID_BASE), except interpreters prestarted for
    a request that has not come yet (warm start): those read a stdin pipe
    that their worker, not a sandbox process, still holds open."""
    sandboxed, held_outside = [], set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/status" % entry) as f:
                fields = dict(line.split(":", 1) for line in f.read().splitlines() if ":" in line)
            uid = int(fields["Uid"].split()[0])
        except (OSError, KeyError, ValueError, IndexError):
            continue
        if SANDBOX_UID_BASE <= uid < SANDBOX_UID_BASE + 256:
            try:
                stdin = os.readlink("/proc/%s/fd/0" % entry)
            except OSError:
                stdin = None
            sandboxed.append((int(entry), uid, fields.get("Name", "").strip(), stdin))
            continue
        try:
            for fd in os.listdir("/proc/%s/fd" % entry):
                target = os.readlink("/proc/%s/fd/%s" % (entry, fd))
                if target.startswith("pipe:"):
                    held_outside.add(target)
        except OSError:
            continue
    return [(pid, uid, name) for pid, uid, name, stdin in sandboxed
            if not (stdin and stdin.startswith("pipe:") and stdin in held_outside)]


def raw_http(data, timeout=30):
    """Sends raw bytes to the service and returns everything it answers until
    it closes the connection (end the last request with Connection: close)."""
    host, port = service_host_port()
    with socket.create_connection((host, port), timeout=timeout) as s:
        s.sendall(data)
        out = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return out
            out += chunk


def timed(fn, *args, **kwargs):
    start = time.monotonic()
    result = fn(*args, **kwargs)
    return result, time.monotonic() - start


TRIVIAL_CODE = "x = x + 1"


def trivial_request_seconds():
    """Wall time of one trivial request (ample context), answer checked."""
    resp, seconds = timed(execute, TRIVIAL_CODE, {"x": 1})
    check_json_response(resp)
    assert resp.content == b'{"globals_dict":{"x":2}}', resp.content[:2000]
    return seconds


def prompt_bound_seconds(limit_seconds, trivial_seconds):
    """How long a request whose run a limit of `limit_seconds` ends may take
    over HTTP and still count as ended promptly by that limit: the limit,
    plus 1 s, plus four times what a trivial request costs on this service
    now (interpreter start, sandbox setup and teardown, HTTP), so that the
    bound holds on a slow or loaded host and still catches a run that is not
    stopped by its limit."""
    return limit_seconds + 1.0 + 4 * trivial_seconds


def free_tcp_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
