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
import random
import zipfile

import requests

# The REALTIME limit of the timeout workload: a per-context override that the
# harness writes into the service's configuration (api.md 5).
TIMEOUT_CONTEXT = "bench:realtime-1s"
TIMEOUT_LIMITS = {"CPU": 5, "REALTIME": 1}
# Every other workload runs with the limits api.md 5 calls typical of
# production; the default 1 s REALTIME would kill a numpy import on a loaded
# 2-core machine and the benchmark would measure error answers.
PRODUCTION_LIMITS = {"CPU": 3, "REALTIME": 3, "VMEM": 536870912, "FSIZE": 1048576}

# capa's prolog (edx-platform xmodule/capa/safe_exec/safe_exec.py), as
# api_tests/test_edxapp_parity.py has it (the standard library's random stands
# in for random2, same generator API), plus the scratch-directory environment
# matplotlib needs, then capa's LAZY_IMPORTS: lazymod.py's LazyModule and one
# stand-in per assumed import. Nothing is imported until the code uses it.
CODE_PROLOG = """\
from __future__ import absolute_import, division

import os
os.environ["OPENBLAS_NUM_THREADS"] = "1"    # See TNL-6456
os.environ["TMPDIR"] = os.path.abspath("tmp")
os.environ["MPLCONFIGDIR"] = os.environ["TMPDIR"]

import random as random_module
import sys
from six.moves import xrange

random = random_module.Random(%r)
random.Random = random_module.Random
random.SystemRandom = random_module.SystemRandom
sys.modules['random'] = random
"""

LAZYMOD = '''\
"""
A module proxy for delayed importing of modules.

From http://barnesc.blogspot.com/2006/06/automatic-python-imports-with-autoimp.html,
in the public domain.

"""

import sys


class LazyModule:
    """A lazy module proxy."""

    def __init__(self, modname):
        self.__dict__['__name__'] = modname
        self._set_mod(None)

    def _set_mod(self, mod):
        if mod is not None:
            self.__dict__ = mod.__dict__
        self.__dict__['_lazymod_mod'] = mod

    def _load_mod(self):
        __import__(self.__name__)
        self._set_mod(sys.modules[self.__name__])

    def __getattr__(self, name):
        if self.__dict__['_lazymod_mod'] is None:
            self._load_mod()

        mod = self.__dict__['_lazymod_mod']

        if hasattr(mod, name):
            return getattr(mod, name)
        else:
            try:
                subname = f'{self.__name__}.{name}'
                __import__(subname)
                submod = getattr(mod, name)
            except ImportError:
                raise AttributeError(f"'module' object has no attribute {name!r}")
            self.__dict__[name] = LazyModule(subname)
            return self.__dict__[name]
'''

ASSUMED_IMPORTS = [
    ("numpy", "numpy"),
    ("math", "math"),
    ("scipy", "scipy"),
    ("calc", "calc"),
    ("eia", "eia"),
    ("chemcalc", "chem.chemcalc"),
    ("chemtools", "chem.chemtools"),
    ("miller", "chem.miller"),
    ("draganddrop", "verifiers.draganddrop"),
]

LAZY_IMPORTS = LAZYMOD + "".join(
    "{} = LazyModule('{}')\n".format(name, module) for name, module in ASSUMED_IMPORTS)

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
    r = random.Random(EDXAPP_SEED)
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
                 CODE_PROLOG % EDXAPP_SEED + LAZY_IMPORTS + EDXAPP_AUTHOR_CODE, edxapp_globals,
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
