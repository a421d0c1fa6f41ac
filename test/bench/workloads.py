"""The benchmark's workloads: what edxapp posts, and how to recognize a right answer.

Every request is built by Debian's python3-requests exactly as edxapp's
remote-exec client builds it (xmodule capa safe_exec, send_safe_exec_request_v0):

    requests.post(url, data={"payload": json.dumps(data)}, files=extra_files, ...)

with `data` = {code, globals_dict, python_path, limit_overrides_context, slug,
unsafely} in that order. So the body is `payload=<urlencoded JSON>` without a
course library, and multipart (payload field, then a `python_lib.zip` file part)
with one. The prepared request's body and headers are what wrk sends.
"""

import io
import json
import math
import os
import random
import sys
import zipfile

import random2
import requests

# The REALTIME limit of the timeout workload: a per-context override that the
# harness writes into the service's configuration (api.md 5). Every other
# workload runs with the embedded default's limits, which are production's
# (CPU 3, REALTIME 3, VMEM 512 MiB, FSIZE 1 MiB).
TIMEOUT_CONTEXT = "bench:realtime-1s"
TIMEOUT_LIMITS = {"CPU": 5, "REALTIME": 1}

# What edxapp puts in front of the author's code, byte for byte (capa's
# CODE_PROLOG with random2 seeded, LAZY_IMPORTS): api_tests/edxapp_client.py.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "api_tests"))
import edxapp_client  # noqa: E402

# A customresponse check as a course author writes it: a few lines of
# arithmetic on seeded random numbers, math through its lazy stand-in.
EDXAPP_AUTHOR_CODE = """
a = random.randint(3, 9)
b = random.randint(3, 9)
hyp = math.sqrt(a * a + b * b)

def check(expect, ans):
    try:
        value = float(ans)
    except ValueError:
        return {'ok': False, 'msg': 'Please enter a number.'}
    return {'ok': abs(value - hyp) < 1e-6, 'msg': 'hypotenuse of %d and %d' % (a, b)}

result = check(expect, answers['i4x-Bench-problem-hyp_2_1'])
correct = ['correct' if result['ok'] else 'incorrect']
messages = [result['msg']]
"""
EDXAPP_SEED = 4242

NUMPY_CODE = """\
import numpy as np
a = np.arange(1, 65, dtype=float).reshape(8, 8)
m = a @ a.T + np.eye(8)
trace = float(np.trace(m))
total = float(m.sum())
"""

ZIP_CODE = "from cj_bench import answer\nx = answer(6)\n"
ZIP_PADDING_BYTES = 2 << 20

TIMEOUT_BODY = ('{"globals_dict":{},"emsg":"Couldn\'t execute jailed code: stdout: b\'\', '
                'stderr: b\'\' with status code: -9"}')


class Workload:
    """One benchmark workload: edxapp's payload, its files, and a check."""

    def __init__(self, name, title, code, globals_dict, check, python_path=(), files=(),
                 context=None, slug=None, times_out=False):
        self.name = name
        self.title = title
        self.data = {
            "code": code,
            "globals_dict": globals_dict,
            "python_path": list(python_path),
            "limit_overrides_context": context,
            "slug": slug,
            "unsafely": False,
        }
        self.files = list(files)  # edxapp's extra_files: [(name, bytes)]
        self.check = check        # check(globals_dict): raises AssertionError if wrong
        self.times_out = times_out

    @property
    def payload_text(self):
        """The `payload` form field: json.dumps(data), as edxapp sends it."""
        return json.dumps(self.data)

    def prepared_request(self, url):
        """The request python3-requests sends for edxapp's requests.post()."""
        session = requests.Session()
        request = requests.Request("POST", url, data={"payload": self.payload_text},
                                   files=self.files)
        return session.prepare_request(request)

    def sandbox_stdin(self):
        """What the executor feeds the wrapper: [code, globals] as ASCII JSON."""
        return json.dumps([self.data["code"], self.data["globals_dict"]],
                          separators=(",", ":")).encode("ascii")

    def expected_body(self, sandbox_globals):
        """The 200 body for the globals the sandbox printed (api.md 3.1):
        the input globals updated with the sandbox's, rendered compactly."""
        if self.times_out:
            return TIMEOUT_BODY.encode()
        merged = dict(self.data["globals_dict"])
        merged.update(sandbox_globals)
        self.check(merged)
        return json.dumps({"globals_dict": merged}, ensure_ascii=False,
                          separators=(",", ":")).encode("utf-8")


def _check_trivial(g):
    assert g == {"x": 2}, g


def _edxapp_globals():
    # The prolog seeds random2 (Debian's python3-random2, the sandbox's too).
    r = random2.Random(EDXAPP_SEED)
    a, b = r.randint(3, 9), r.randint(3, 9)
    hyp = math.sqrt(a * a + b * b)
    ans = "%.9f" % hyp
    return a, b, hyp, {
        "seed": EDXAPP_SEED,
        "expect": "%.9f" % hyp,
        "ans": ans,
        "answers": {"i4x-Bench-problem-hyp_2_1": ans},
        "correct": ["unknown"],
        "messages": [""],
    }


def _check_edxapp(g):
    a, b, hyp, _ = _edxapp_globals()
    assert g["correct"] == ["correct"], g
    assert g["messages"] == ["hypotenuse of %d and %d" % (a, b)], g
    assert g["a"] == a and g["b"] == b and abs(g["hyp"] - hyp) < 1e-12, g
    assert g["result"] == {"ok": True, "msg": g["messages"][0]}, g


def _check_numpy(g):
    a = [[8 * i + j + 1 for j in range(8)] for i in range(8)]
    trace = sum(v * v for row in a for v in row) + 8
    total = sum(sum(a[i][j] for i in range(8)) ** 2 for j in range(8)) + 8
    assert g["trace"] == float(trace) and g["total"] == float(total), g


def _check_zip(g):
    assert g == {"x": 42}, g


def course_library():
    """A deterministic 2 MiB python_lib.zip, stored (not deflated) so that it
    is 2 MiB on the wire too: a small package plus padding data."""
    padding = random.Random(2026).randbytes(ZIP_PADDING_BYTES)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as z:
        # A fixed timestamp keeps the bytes identical from run to run.
        for name, data in [("cj_bench/__init__.py", "def answer(n):\n    return n * 7\n"),
                           ("cj_bench/padding.bin", padding)]:
            z.writestr(zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0)), data)
    return out.getvalue()


def all_workloads():
    _, _, _, edxapp_globals = _edxapp_globals()
    return [
        Workload("trivial", "`x = 1 + 1`", "x = 1 + 1", {}, _check_trivial,
                 slug="bench-trivial"),
        Workload("edxapp", "edxapp customresponse (prolog + lazy imports)",
                 edxapp_client.safe_exec_code(EDXAPP_AUTHOR_CODE, EDXAPP_SEED), edxapp_globals,
                 _check_edxapp, context="course-v1:edX+Bench+2026",
                 slug="block-v1:edX+Bench+2026+type@problem+block@hyp"),
        Workload("numpy", "`import numpy` + 8x8 matrix product", NUMPY_CODE, {}, _check_numpy,
                 slug="bench-numpy"),
        Workload("zip", "2 MiB python_lib.zip (multipart) + import", ZIP_CODE, {}, _check_zip,
                 python_path=["python_lib.zip"], files=[("python_lib.zip", course_library())],
                 slug="bench-zip"),
        Workload("timeout", "`while True: pass`, REALTIME 1 s", "while True:\n    pass\n", {},
                 None, context=TIMEOUT_CONTEXT, slug="bench-timeout", times_out=True),
    ]
