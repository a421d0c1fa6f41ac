"""What edxapp's remote-exec client sends and how it reads the answer.

The request is built exactly as xmodule's capa safe_exec remote client does:
requests.post(url, data={"payload": json.dumps(payload)}, files=extra_files,
timeout=(0.5, 3.5)), with the code prolog capa prepends (OPENBLAS_NUM_THREADS,
a seeded random module) and customresponse-like globals.
"""

import json
import random

import pytest
import requests

import apilib

CONNECT_TIMEOUT = 0.5
READ_TIMEOUT = 3.5

# edxapp sends the course id as limit_overrides_context; the runner configures
# this one as an edX deployment would ({CPU: 3, REALTIME: 3}, README.md).
COURSE = "course-v1:edX+DemoX+Demo_Course"

# capa's prolog (safe_exec.py), with the standard library's random standing in
# for random2 (same generator API).
CODE_PROLOG = """\
from __future__ import absolute_import, division

import os
os.environ["OPENBLAS_NUM_THREADS"] = "1"    # See TNL-6456

import random as random_module
import sys
from six.moves import xrange

random = random_module.Random(%r)
random.Random = random_module.Random
random.SystemRandom = random_module.SystemRandom
sys.modules['random'] = random
"""

COURSE_LIB = apilib.make_zip({
    "cj_grading/__init__.py": "",
    "cj_grading/tolerance.py": (
        "def close(a, b, rel=1e-3):\n"
        "    return abs(a - b) <= rel * max(abs(a), abs(b), 1e-12)\n"
    ),
})

# A customresponse check function, as a course author writes it.
PROBLEM_CODE = """
import numpy as np
from cj_grading.tolerance import close

a = random.randint(2, 9)
b = random.randint(2, 9)
m = np.array([[a, 1.0], [1.0, b]])
det = float(np.linalg.det(m))

def check_function(expect, ans):
    try:
        value = float(ans)
    except ValueError:
        return {'ok': False, 'msg': 'Please enter a number.'}
    return {'ok': close(value, det), 'msg': 'det = a*b - 1'}

result = check_function(expect, ans)
correct = ['correct' if result['ok'] else 'incorrect']
messages = [result['msg']]
overall_message = 'seed %d' % seed
"""


def edxapp_post(payload, extra_files):
    """send_safe_exec_request_v0, minus settings lookups."""
    data = dict(payload)
    return requests.post(
        apilib.EXEC_URL,
        files=extra_files,
        timeout=(CONNECT_TIMEOUT, READ_TIMEOUT),
        data={"payload": json.dumps(data)},
    )


def edxapp_remote_exec(code, globals_dict, python_path, extra_files, limit_overrides_context, slug):
    """The client's handling of the answer: raise_for_status, then update the
    caller's globals with the answer's globals_dict, emsg as the error."""
    payload = {
        "code": code,
        "globals_dict": globals_dict,
        "python_path": python_path,
        "limit_overrides_context": limit_overrides_context,
        "slug": slug,
        "unsafely": False,
    }
    response = edxapp_post(payload, extra_files)
    response.raise_for_status()
    assert response.headers.get("Content-Type") == "application/json"
    answer = response.json()
    globals_dict.update(answer["globals_dict"])
    return answer.get("emsg"), answer


def problem_globals(seed, ans):
    return {
        "seed": seed,
        "expect": "unused",
        "ans": ans,
        "correct": ["unknown"],
        "messages": [""],
        "overall_message": "",
        "input_list": [ans],
        "cfn_return": None,
    }


def expected_det(seed):
    r = random.Random(seed)
    a = r.randint(2, 9)
    b = r.randint(2, 9)
    return a, b, a * b - 1.0


@pytest.mark.parametrize("seed", [1, 42, 1337])
def test_customresponse_round_trip_with_course_library(seed):
    a, b, det = expected_det(seed)
    code = CODE_PROLOG % seed + PROBLEM_CODE
    g = problem_globals(seed, "%.6f" % det)
    emsg, answer = edxapp_remote_exec(code, g, ["python_lib.zip"], [("python_lib.zip", COURSE_LIB)],
                                      COURSE, "block-v1:edX+DemoX+Demo_Course+type@problem+block@p1")
    assert emsg is None
    assert "emsg" not in answer
    assert g["correct"] == ["correct"]
    assert g["messages"] == ["det = a*b - 1"]
    assert g["overall_message"] == "seed %d" % seed
    assert g["a"] == a and g["b"] == b
    assert abs(g["det"] - det) < 1e-9
    assert g["result"] == {"ok": True, "msg": "det = a*b - 1"}
    # Input keys first in their order, then the new ones in creation order.
    assert list(answer["globals_dict"]) == ["seed", "expect", "ans", "correct", "messages",
                                            "overall_message", "input_list", "cfn_return",
                                            "a", "b", "det", "result"]


def test_wrong_answer_is_graded_incorrect():
    code = CODE_PROLOG % 7 + PROBLEM_CODE
    g = problem_globals(7, "-1")
    emsg, _ = edxapp_remote_exec(code, g, ["python_lib.zip"], [("python_lib.zip", COURSE_LIB)], COURSE, None)
    assert emsg is None
    assert g["correct"] == ["incorrect"]


def test_without_course_library_urlencoded():
    code = CODE_PROLOG % 3 + ("x = random.randint(1, 100)\n"
                              "ys = [i * i for i in xrange(4)]\n"
                              "correct = ['correct' if ans == str(x) else 'incorrect']\n")
    x = random.Random(3).randint(1, 100)
    g = {"seed": 3, "ans": str(x), "correct": ["unknown"]}
    emsg, answer = edxapp_remote_exec(code, g, [], [], COURSE, None)
    assert emsg is None
    assert g == {"seed": 3, "ans": str(x), "correct": ["correct"], "x": x, "ys": [0, 1, 4, 9]}


def test_author_error_reaches_the_client_as_emsg_with_globals_untouched():
    code = CODE_PROLOG % 5 + "correct = ['correct']\nraise ValueError('bad problem')\n"
    raise_line = code.count("\n")  # the last line of the code
    g = {"seed": 5, "correct": ["unknown"], "messages": [""]}
    emsg, answer = edxapp_remote_exec(code, g, ["python_lib.zip"], [("python_lib.zip", COURSE_LIB)],
                                      COURSE, "slug")
    assert answer["globals_dict"] == {"seed": 5, "correct": ["unknown"], "messages": [""]}
    assert emsg is not None
    e = apilib.normalize(emsg)
    assert e.startswith("Couldn't execute jailed code: stdout: b'', stderr: b'Traceback (most recent call last):\\n"
                        "  File \"/tmp/codejail-XXXXXXXX/jailed_code\", line 20, in <module>\\n"
                        "    exec(code, g_dict)\\n"
                        "  File \"<string>\", line %d, in <module>\\n" % raise_line), e
    assert e.endswith("ValueError: bad problem\\n' with status code: 1"), e


def test_timeout_answers_before_the_client_gives_up():
    code = CODE_PROLOG % 1 + "import time\ntime.sleep(60)\n"
    g = {"seed": 1}
    # No context: the default REALTIME 1 kills it well inside the read timeout.
    emsg, answer = edxapp_remote_exec(code, g, [], [], None, None)  # no ReadTimeout
    assert emsg == apilib.silent_kill(-9)
    assert answer["globals_dict"] == {"seed": 1}


def test_several_executions_in_a_row_each_answer_in_time():
    for seed in range(6):
        code = CODE_PROLOG % seed + "v = random.random()\n"
        g = {"seed": seed}
        emsg, _ = edxapp_remote_exec(code, g, [], [], COURSE, None)
        assert emsg is None
        assert g["v"] == random.Random(seed).random()
