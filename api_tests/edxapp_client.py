"""edxapp's side of a code execution, exactly as production does it: the
code string capa's safe_exec builds (prolog, lazy imports, the author's
code) and the remote-exec client's request and its reading of the answer
(xblocks-contrib remote_exec.send_safe_exec_request_v0).

Used by test_edxapp_parity.py and by the benchmark's edxapp workload
(test/bench/workloads.py). The prolog and lazymod.py are byte-exact copies
(api_tests/edxapp/README.md); nothing here stands in for a module the
sandbox must really have (random2, six, numpy, ...).
"""

import hashlib
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))

# edx-platform's settings of the client (cms/envs/common.py).
CONNECT_TIMEOUT = 0.5
READ_TIMEOUT = 3.5


def _read_exact(name, sha256):
    with open(os.path.join(HERE, "edxapp", name), "rb") as f:
        data = f.read()
    digest = hashlib.sha256(data).hexdigest()
    if digest != sha256:
        raise RuntimeError("api_tests/edxapp/%s was edited (sha256 %s): it must stay what edxapp "
                           "sends" % (name, digest))
    return data.decode("utf-8")


# safe_exec.CODE_PROLOG: the environment capa sets up, then random2 seeded
# with repr(random_seed) standing in for the random module.
CODE_PROLOG = _read_exact("code_prolog.txt",
                          "ab9cdfd725822a880ff0761e9a230d8b7807d0c331aff89a09e8ca5ba536786d")

# safe_exec.ASSUMED_IMPORTS: names course code may use without importing them.
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

# safe_exec.LAZY_IMPORTS: lazymod.py's whole text, then one LazyModule per
# assumed import.
LAZY_IMPORTS = _read_exact("lazymod.py.txt",
                           "71f069def3612aa0fa4045509f967e4ed2e12ded8786870bb563acbf372c77e1")
LAZY_IMPORTS += "".join("{} = LazyModule('{}')\n".format(name, modname)
                        for name, modname in ASSUMED_IMPORTS)


def safe_exec_code(code, random_seed):
    """The code string safe_exec sends for `code`: CODE_PROLOG % random_seed
    + LAZY_IMPORTS + code."""
    return CODE_PROLOG % random_seed + LAZY_IMPORTS + code


def payload(code, globals_dict, random_seed=None, python_path=None, limit_overrides_context=None,
            slug=None, unsafely=False):
    """safe_exec's `data` (minus extra_files), keys in its order. The globals
    must already be JSON-safe (remote_exec runs codejail's json_safe on them,
    which leaves plain JSON values unchanged)."""
    return {
        "code": safe_exec_code(code, random_seed),
        "globals_dict": globals_dict,
        "python_path": python_path or [],
        "limit_overrides_context": limit_overrides_context,
        "slug": slug,
        "unsafely": unsafely,
    }


def form_fields(data):
    """The `data=` of the client's requests.post: one field, the payload as
    json.dumps writes it (default separators)."""
    return {"payload": json.dumps(data)}


def send(session_or_requests, url, data, extra_files):
    """send_safe_exec_request_v0: POST, raise_for_status, JSON, then
    globals_dict.update(answer's globals_dict) (which fails without one) and
    emsg turned into the exception text edxapp raises. Returns (emsg,
    exception message or None, the answer)."""
    response = session_or_requests.post(url, files=extra_files, data=form_fields(data),
                                        timeout=(CONNECT_TIMEOUT, READ_TIMEOUT))
    response.raise_for_status()
    answer = response.json()
    emsg = answer.get("emsg")
    exception = None
    if emsg:
        exception = f"{emsg}. For more information check Codejail Service logs."
    data["globals_dict"].update(answer.get("globals_dict"))
    return emsg, exception, answer
