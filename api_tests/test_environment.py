"""api.md section 4: the execution environment seen by the code, and section 5:
the limits as the default configuration sets them.

Runs get the ample context (apilib.execute's default) except where a default
limit is the subject: those send no context (DEFAULT_LIMITS) and keep their
code cheap, so that only the limit under test can decide the outcome."""

import os
import time

import pytest

import apilib
from apilib import DEFAULT_LIMITS, DEFAULT_REALTIME, PY_ATTEMPT, exec_body, silent_kill

LIB = apilib.make_zip({"cjs_mod.py": "V = 1\n"})

ENV_CODE = (
    "import os, sys, tempfile\n"
    "cwd = os.getcwd()\n"
    "listing = sorted(os.listdir('.'))\n"
    "tmp_is_dir = os.path.isdir('tmp')\n"
    "wrapper_is_file = os.path.isfile('jailed_code')\n"
    "argv = sys.argv\n"
    "path0 = sys.path[0]\n"
    "tmpdir = os.environ.get('TMPDIR')\n"
    "has_path = bool(os.environ.get('PATH'))\n"
    "flags = [sys.flags.ignore_environment, sys.flags.dont_write_bytecode, sys.flags.no_site]\n"
    "name = __name__\n"
)


@pytest.fixture(scope="module")
def env():
    return apilib.run_globals(ENV_CODE)


def test_cwd_is_the_sandbox_dir(env):
    assert apilib.SANDBOX_DIR_FULL_RE.match(env["cwd"]), env["cwd"]


def test_cwd_contains_wrapper_and_tmp(env):
    assert {"jailed_code", "tmp"} <= set(env["listing"]), env["listing"]
    assert env["tmp_is_dir"] is True
    assert env["wrapper_is_file"] is True


def test_cwd_contains_the_uploaded_zip():
    g = apilib.run_globals("import os\nlisting = sorted(os.listdir('.'))", files=[("python_lib.zip", LIB)])
    assert {"jailed_code", "tmp", "python_lib.zip"} <= set(g["listing"]), g["listing"]


def test_argv(env):
    assert env["argv"] == ["jailed_code"]


def test_sys_path_0_is_the_sandbox_dir(env):
    assert env["path0"] == env["cwd"]


def test_tmpdir(env):
    assert env["tmpdir"] == "tmp"


def test_interpreter_flags_minus_e_minus_b_site_enabled(env):
    assert env["flags"] == [1, 1, 0]


def test_path_present(env):
    assert env["has_path"] is True


def test_name_is_not_main(env):
    assert env["name"] != "__main__"


def test_sandbox_dirs_differ_between_runs(env):
    other = apilib.run_globals("import os\ncwd = os.getcwd()")
    assert apilib.SANDBOX_DIR_FULL_RE.match(other["cwd"])
    assert other["cwd"] != env["cwd"]


def test_tmp_is_writable():
    code = ("import os, tempfile\n"
            "open('tmp/empty', 'w').close()\n"
            "os.mkdir('tmp/d')\n"
            "open('tmp/d/e', 'wb').close()\n"
            "fd, p = tempfile.mkstemp(dir='tmp')\n"
            "os.close(fd)\n"
            "made = os.path.dirname(os.path.abspath(p)) == os.path.join(os.getcwd(), 'tmp')\n"
            "os.rename('tmp/empty', 'tmp/renamed')\n"
            "os.remove(p)\n"
            "listing = sorted(os.listdir('tmp'))\n"
            "del fd, p\n")
    assert apilib.run_globals(code) == {"made": True, "listing": ["d", "renamed"]}


def test_sandbox_dir_itself_is_not_writable():
    code = PY_ATTEMPT + (
        "import os\n"
        "def write(path):\n"
        "    with open(path, 'w') as f:\n"
        "        pass\n"
        "create = attempt(write, 'x')\n"
        "wrapper = attempt(write, 'jailed_code')\n"
        "mkdir = attempt(os.mkdir, 'd')\n"
        "remove = attempt(os.remove, 'jailed_code')\n"
        "rename = attempt(os.rename, 'tmp', 'tmp2')\n"
    )
    g = apilib.run_globals(code)
    assert g == {
        "create": "PermissionError: [Errno 13] Permission denied: 'x'",
        "wrapper": "PermissionError: [Errno 13] Permission denied: 'jailed_code'",
        "mkdir": "PermissionError: [Errno 13] Permission denied: 'd'",
        "remove": "PermissionError: [Errno 13] Permission denied: 'jailed_code'",
        "rename": "PermissionError: [Errno 13] Permission denied: 'tmp' -> 'tmp2'",
    }


def test_service_environment_does_not_leak():
    """The service must be started with CJS_TEST_ENV_LEAKAGE=yes (see README.md)."""
    g = apilib.run_globals("import os\nleak = 'CJS_TEST_ENV_LEAKAGE' in os.environ\n"
                           "yes = [k for k, v in os.environ.items() if v == 'yes']\n"
                           "keys = sorted(os.environ)\n")
    assert g["leak"] is False
    assert g["yes"] == []
    assert "PATH" in g["keys"]
    # Nothing that only a service's environment would carry.
    for key in g["keys"]:
        assert not key.startswith(("CJS_", "CODEJAIL", "API_TEST", "SUDO", "SSH_", "INVOCATION_ID",
                                   "NOTIFY_SOCKET", "LISTEN_", "JOURNAL")), key


def test_stdin_was_consumed():
    g = apilib.run_globals("import sys\ntry:\n    rest = sys.stdin.read()\nexcept Exception as e:\n"
                           "    rest = type(e).__name__\n")
    assert g["rest"] in ("", "ValueError", "AttributeError", "OSError"), g


def test_import_random_works_normally():
    g = apilib.run_globals("import random\nrandom.seed(1)\nr = random.random()\n"
                           "i = random.Random(42).randint(1, 1000)\n")
    assert g == {"r": 0.13436424411240122, "i": 655}


def test_stdlib_imports():
    code = ("import json, math, re, decimal, fractions, collections, itertools, functools, string,\\\n"
            "    datetime, hashlib, struct, copy, textwrap, statistics, cmath, operator\n"
            "x = [math.sqrt(16), str(decimal.Decimal('1.10') + 1), str(fractions.Fraction(1, 3) * 3),\n"
            "     statistics.mean([1, 2, 3]), hashlib.md5(b'a').hexdigest()]\n")
    assert apilib.run_globals(code) == {"x": [4.0, "2.10", "1", 2, "0cc175b9c0f1b6a831c399e269772661"]}


PACKAGES = {
    "six": "import six\nok = six.PY3 and six.text_type is str",
    "numpy": ("import os\nos.environ['OPENBLAS_NUM_THREADS'] = '1'\nimport numpy\n"
              "m = numpy.arange(40000, dtype=float).reshape(200, 200)\n"
              "ok = bool(numpy.dot(m, m.T).trace() > 0) and round(float(numpy.linalg.det(numpy.eye(3) * 2)), 9) == 8.0"),
    "scipy": ("import os\nos.environ['OPENBLAS_NUM_THREADS'] = '1'\nimport scipy.optimize\n"
              "ok = abs(scipy.optimize.brentq(lambda x: x * x - 2, 0, 2) - 2 ** 0.5) < 1e-9"),
    "sympy": "import sympy\nx = sympy.Symbol('x')\nok = str(sympy.expand((x + 1) ** 2)) == 'x**2 + 2*x + 1'",
    "networkx": "import networkx\ng = networkx.path_graph(4)\nok = networkx.shortest_path_length(g, 0, 3) == 3",
    "lxml": "from lxml import etree\nok = etree.fromstring('<a><b>t</b></a>').findtext('b') == 't'",
    "pyparsing": "import pyparsing\nok = pyparsing.Word(pyparsing.nums).parseString('123')[0] == '123'",
    "nltk": "import nltk\nok = nltk.word_tokenize is not None",
}


def production_context():
    """The limit_overrides_context with production VMEM and FSIZE (api.md 5:
    VMEM 512 MiB, FSIZE 1 MiB) and ample time, if the runner configured one
    (importing nltk or building matplotlib's font cache takes seconds on a
    slow host, and these tests are not about time); else the one with
    production limits (CPU 3, REALTIME 3); else None: the deployment's own
    default limits."""
    return apilib.production_ample_context()


@pytest.mark.parametrize("package", list(PACKAGES))
def test_course_packages(package):
    probe = apilib.run_globals("import importlib.util\nfound = importlib.util.find_spec(%r) is not None\n"
                               % package)
    if not probe["found"]:
        pytest.skip("%s is not installed in the sandbox interpreter (api.md 4: 'as available')" % package)
    # Importing sympy or nltk takes about a second here: with production VMEM
    # and FSIZE, and ample time.
    body = apilib.run(PACKAGES[package], limit_overrides_context=production_context())
    assert "emsg" not in body, body.get("emsg")
    assert body["globals_dict"].get("ok") is True, body


def test_matplotlib_with_config_dir_under_tmp():
    probe = apilib.run_globals("import importlib.util\nfound = importlib.util.find_spec('matplotlib') is not None\n")
    if not probe["found"]:
        pytest.skip("matplotlib is not installed in the sandbox interpreter (api.md 4: 'as available')")
    code = ("import os, io\n"
            "import matplotlib\n"
            "matplotlib.use('Agg')\n"
            "import matplotlib.pyplot as plt\n"
            "config_dir = matplotlib.get_configdir()\n"
            "under_tmp = config_dir.startswith(os.path.join(os.getcwd(), 'tmp'))\n"
            "plt.plot([1, 2, 3], [1, 4, 9])\n"
            "buf = io.BytesIO()\n"
            "plt.savefig(buf, format='png')\n"
            "png = buf.getvalue()[:4] == b'\\x89PNG'\n"
            "del buf, config_dir\n")
    # Building the font cache takes about a second, and FSIZE 0 forbids saving it.
    body = apilib.run(code, limit_overrides_context=production_context())
    assert "emsg" not in body, body.get("emsg")
    assert body["globals_dict"] == {"under_tmp": True, "png": True}


# ============================================================ section 5

SHORT_SLEEP = 0.3


def test_realtime_default_allows_short_sleeps():
    # A whole trivial request (more than the run's share of REALTIME) plus
    # the sleep must fit in the default REALTIME, or this host cannot tell;
    # measured just before (the median of three), as the load is now.
    trivial = sorted(apilib.trivial_request_seconds() for _ in range(3))[1]
    if trivial + SHORT_SLEEP >= DEFAULT_REALTIME:
        pytest.skip("this host is too slow to judge now: a trivial request takes %.2f s, plus the "
                    "%.1f s sleep is not inside the default REALTIME %.0f s" % (trivial, SHORT_SLEEP,
                                                                                DEFAULT_REALTIME))
    assert apilib.run_globals("import time\ntime.sleep(%r)\nx = 1" % SHORT_SLEEP,
                              limit_overrides_context=DEFAULT_LIMITS) == {"x": 1}


def test_vmem_default_is_off():
    # bytes(n) is calloc'd: 200 MiB of address space (what RLIMIT_AS would
    # refuse) without touching a page, so the default REALTIME 1 is plenty.
    code = ("import resource\nlimit = list(resource.getrlimit(resource.RLIMIT_AS))\n"
            "b = bytes(200 << 20)\nn = len(b)\ndel b\n")
    assert apilib.run_globals(code, limit_overrides_context=DEFAULT_LIMITS) == {"limit": [-1, -1], "n": 200 << 20}


def test_fsize_default_zero_means_no_bytes_at_all():
    code = PY_ATTEMPT + (
        "import os\n"
        "open('tmp/empty', 'w').close()\n"
        "def write(n):\n"
        "    with open('tmp/f', 'wb', buffering=0) as f:\n"
        "        f.write(b'x' * n)\n"
        "one = attempt(write, 1)\n"
        "size = os.path.getsize('tmp/f')\n"
    )
    assert apilib.run_globals(code, limit_overrides_context=DEFAULT_LIMITS) == \
        {"one": "OSError: [Errno 27] File too large", "size": 0}


def test_fsize_uncaught_is_the_reference_error():
    body = apilib.run("with open('tmp/f', 'wb', buffering=0) as f:\n    f.write(b'x')\n", {"a": 1},
                      limit_overrides_context=DEFAULT_LIMITS)
    assert body["globals_dict"] == {"a": 1}
    assert apilib.normalize(body["emsg"]).endswith("\\nOSError: [Errno 27] File too large\\n' with status code: 1")


def test_nproc_default_15_processes(prompt_bound):
    # Forking 14 interpreters takes a good part of the default REALTIME 1 on a
    # loaded host, so this runs with ample time: the ample context changes
    # only CPU and REALTIME, the NPROC in force is still the default one (the
    # default limits themselves are checked cheaply, with threads, below).
    code = ("import os, time\n"
            "n = 0\n"
            "try:\n"
            "    while n < 100:\n"
            "        if os.fork() == 0:\n"
            "            time.sleep(10)\n"
            "            os._exit(0)\n"
            "        n += 1\n"
            "except BlockingIOError as e:\n"
            "    err = str(e)\n")
    start = time.monotonic()
    g = apilib.run_globals(code)
    seconds = time.monotonic() - start
    # The sleeping children do not hold the answer back.
    assert seconds < prompt_bound(DEFAULT_REALTIME), seconds
    assert g["err"] == "[Errno 11] Resource temporarily unavailable"
    assert 1 <= g["n"] <= 14, g  # 15 counts the interpreter itself


def test_nproc_counts_threads():
    # Under the default limits (no context): starting threads costs next to
    # nothing, so this is where the default NPROC 15 is seen without help.
    code = ("import threading, time\n"
            "started = 0\n"
            "try:\n"
            "    while started < 100:\n"
            "        threading.Thread(target=time.sleep, args=(10,), daemon=True).start()\n"
            "        started += 1\n"
            "except RuntimeError as e:\n"
            "    err = str(e)\n")
    g = apilib.run_globals(code, limit_overrides_context=DEFAULT_LIMITS)
    assert g["err"] == "can't start new thread"
    assert 1 <= g["started"] <= 14, g


def test_unknown_limit_overrides_context_means_default_limits(prompt_bound):
    start = time.monotonic()
    resp = apilib.execute("import time\ntime.sleep(30)", {"a": 1},
                          limit_overrides_context="course-v1:NoSuch+Course+Run")
    seconds = time.monotonic() - start
    apilib.check_json_response(resp)
    assert resp.content == exec_body({"a": 1}, silent_kill(-9))
    assert seconds < prompt_bound(DEFAULT_REALTIME), seconds


def test_proxy_limit_is_not_a_payload_concern():
    # Limits come from configuration only: a payload key named like one is ignored.
    resp = apilib.execute("import time\ntime.sleep(30)", {}, limits={"REALTIME": 60}, REALTIME=60,
                          limit_overrides_context=DEFAULT_LIMITS)
    apilib.check_json_response(resp)
    assert resp.content == exec_body({}, silent_kill(-9))


def test_limit_overrides_context_overlays_the_defaults():
    """api.md 5: effective limits = defaults overlaid by the context's entry."""
    context = os.environ.get("API_TEST_CPU_LIMIT_CONTEXT")
    if not context:
        pytest.skip("needs API_TEST_CPU_LIMIT_CONTEXT: a limit_overrides_context configured with "
                    "{CPU: 1, REALTIME: 10} (run_against_built_service configures one)")
    code = PY_ATTEMPT + ("import time\ntime.sleep(1.5)\n"
                         "def write():\n"
                         "    with open('tmp/f', 'wb', buffering=0) as f:\n"
                         "        f.write(b'x')\n"
                         "fsize = attempt(write)\n")
    # REALTIME 10 from the context; FSIZE still the default 0.
    assert apilib.run_globals(code, limit_overrides_context=context) == \
        {"fsize": "OSError: [Errno 27] File too large"}
    # Without the context: the default REALTIME 1.
    assert apilib.run(code, limit_overrides_context=DEFAULT_LIMITS) == {"globals_dict": {}, "emsg": silent_kill(-9)}
