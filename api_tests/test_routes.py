"""api.md section 1 (endpoints) and section 6 (health gates on the probes)."""

import urllib.parse

import pytest
import requests

import apilib
from apilib import BASE, EXEC_URL, HEALTH_URL, JSON_TYPE, TIMEOUT

HEALTH_OK = b'{"status": "OK"}'
HEALTH_UNAVAILABLE = b'{"status": "UNAVAILABLE"}'


# ---------------------------------------------------------------- code-exec

def test_post_code_exec_executes():
    resp = apilib.post_payload({"code": "x = x + 1", "globals_dict": {"x": 16}})
    apilib.check_json_response(resp, 200)
    assert resp.content == b'{"globals_dict":{"x":17}}'


def test_code_exec_with_trailing_slash_is_404():
    resp = apilib.post_payload({"code": "x = x + 1", "globals_dict": {"x": 16}},
                               url=EXEC_URL + "/")
    assert resp.status_code == 404, resp.content


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH"])
def test_other_methods_on_code_exec_are_405(method):
    resp = requests.request(method, EXEC_URL, timeout=TIMEOUT)
    assert resp.status_code == 405, resp.content
    assert resp.headers.get("Content-Type") == JSON_TYPE
    # The REST framework's renderer is compact.
    assert resp.content == ('{"detail":"Method \\"%s\\" not allowed."}' % method).encode()
    assert resp.headers.get("Allow") == "POST, OPTIONS"


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_405_wins_over_a_valid_body(method):
    resp = requests.request(method, EXEC_URL,
                            data={"payload": '{"code": "x = 1", "globals_dict": {}}'},
                            timeout=TIMEOUT)
    assert resp.status_code == 405
    assert resp.content == ('{"detail":"Method \\"%s\\" not allowed."}' % method).encode()
    assert resp.headers.get("Allow") == "POST, OPTIONS"


def test_head_on_code_exec_is_405_with_empty_body():
    resp = requests.head(EXEC_URL, timeout=TIMEOUT)
    assert resp.status_code == 405
    assert resp.content == b""
    assert resp.headers.get("Allow") == "POST, OPTIONS"


@pytest.mark.parametrize("path,status", [("/api/v0/code-exec", b"405"), ("/health/", b"200")])
def test_head_answer_has_no_body_bytes_on_the_wire(path, status):
    # requests never reads a HEAD body; on the wire, the next response must
    # follow the HEAD response's headers immediately.
    data = apilib.raw_http(b"HEAD " + path.encode() + b" HTTP/1.1\r\nHost: t\r\n\r\n"
                           b"GET /health/ HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
    assert data.startswith(b"HTTP/1.1 " + status + b" "), data[:300]
    head_end = data.index(b"\r\n\r\n") + 4
    assert data[head_end:].startswith(b"HTTP/1.1 200 "), data[:600]
    assert data.endswith(b"\r\n\r\n" + HEALTH_OK), data[-300:]


def test_options_on_code_exec_is_allowed():
    # OPTIONS is in the Allow header: it is not a 405.
    resp = requests.options(EXEC_URL, timeout=TIMEOUT)
    assert resp.status_code == 200, resp.content
    assert resp.headers.get("Allow") == "POST, OPTIONS"


# -------------------------------------------------------------------- health

@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"])
def test_health_any_method(method):
    resp = requests.request(method, HEALTH_URL, timeout=TIMEOUT)
    assert resp.status_code == 200, resp.content
    assert resp.headers.get("Content-Type") == JSON_TYPE
    # Exactly this text: note the space after the colon.
    assert resp.content == HEALTH_OK


def test_health_head():
    resp = requests.head(HEALTH_URL, timeout=TIMEOUT)
    assert resp.status_code == 200
    assert resp.content == b""


def test_health_with_a_query_string():
    resp = requests.get(HEALTH_URL + "?probe=1", timeout=TIMEOUT)
    assert resp.status_code == 200
    assert resp.content == HEALTH_OK


def test_health_without_slash_redirects():
    resp = requests.get(BASE + "/health", allow_redirects=False, timeout=TIMEOUT)
    assert resp.status_code == 301, resp.content
    location = resp.headers.get("Location")
    assert location is not None
    assert urllib.parse.urljoin(BASE + "/health", location) == BASE + "/health/"
    # And following it lands on the health answer.
    followed = requests.get(BASE + "/health", timeout=TIMEOUT)
    assert followed.status_code == 200
    assert followed.content == HEALTH_OK


@pytest.mark.parametrize("path", [
    "/",
    "/api",
    "/api/",
    "/api/v0",
    "/api/v0/",
    "/api/v0/code-exec/x",
    "/api/v0/code-exec/health/",
    "/api/v1/code-exec",
    "/API/v0/code-exec",
    "/api/v0/code-exec.json",
    "/health/x",
    "/health//",
    "/Health/",
    "/healthz",
    "/nonexistent",
])
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_anything_else_is_404(path, method):
    resp = requests.request(method, BASE + path, allow_redirects=False,
                            data={"payload": '{"code": "x = 1", "globals_dict": {}}'}
                            if method == "POST" else None,
                            timeout=TIMEOUT)
    assert resp.status_code == 404, (path, resp.status_code, resp.content)


def test_no_authentication_needed():
    # The client sends no credentials at all; nothing asks for them.
    resp = requests.post(EXEC_URL, data={"payload": '{"code": "a = 1", "globals_dict": {}}'},
                         timeout=TIMEOUT)
    assert resp.status_code == 200
    assert "WWW-Authenticate" not in resp.headers


def test_json_content_type_is_exact_everywhere():
    # No charset parameter, on success, errors and health alike.
    answers = [
        apilib.post_payload({"code": "a = 1", "globals_dict": {}}),
        apilib.post_payload({"code": "1/0", "globals_dict": {}}),
        apilib.post_raw(b"nothing=here", "application/x-www-form-urlencoded"),
        apilib.post_raw(b"x", "text/plain"),
        requests.get(EXEC_URL, timeout=TIMEOUT),
        requests.get(HEALTH_URL, timeout=TIMEOUT),
    ]
    for resp in answers:
        assert resp.headers.get("Content-Type") == JSON_TYPE, (resp.status_code, resp.headers)


def test_keep_alive_connection_serves_several_requests():
    with requests.Session() as s:
        for i in range(3):
            resp = s.post(EXEC_URL, data={"payload": '{"code": "y = x * 2", "globals_dict": {"x": %d}}' % i},
                          timeout=TIMEOUT)
            assert resp.content == b'{"globals_dict":{"x":%d,"y":%d}}' % (i, 2 * i)
        assert s.get(HEALTH_URL, timeout=TIMEOUT).content == HEALTH_OK


# ------------------------------------------------------------ section 6

PROBES = [
    # (id, code, globals, check)
    ("functionality", "x = x + 1", {"x": 16}, None),
    ("disk", "import os; ret = os.listdir('/')", {},
     ["PermissionError: [Errno 13] Permission denied"]),
    ("exec", "import subprocess\nret = subprocess.check_output('date')", {},
     ["BlockingIOError: [Errno 11] Resource temporarily unavailable",
      "PermissionError: [Errno 13] Permission denied"]),
    ("network", "import socket\ns = socket.socket(socket.AF_INET, socket.SOCK_STREAM)", {},
     ["PermissionError: [Errno 13] Permission denied"]),
]


@pytest.mark.parametrize("probe", PROBES, ids=[p[0] for p in PROBES])
def test_health_200_means_the_probes_pass(probe):
    """api.md 6: /health/ is 200 only when the startup probes passed; the same
    probe code sent through the API must pass now too."""
    name, code, globals_dict, expected = probe
    assert requests.get(HEALTH_URL, timeout=TIMEOUT).status_code == 200
    body = apilib.run(code, globals_dict)
    if expected is None:
        assert body == {"globals_dict": {"x": 17}}
    else:
        assert "emsg" in body, body
        assert any(e in body["emsg"] for e in expected), body["emsg"]
        assert body["globals_dict"] == globals_dict


# ---------------------------------------- instances with other configurations

def test_disabled_service_refuses_with_500(disabled_base):
    """Check 1: not enabled -> 500, before the body is parsed; health is
    independent of the switch."""
    url = disabled_base + apilib.EXEC_PATH
    for resp in [
        apilib.post_payload({"code": "x = 1", "globals_dict": {}}, url=url),
        apilib.post_raw(b"", None, url=url),
        apilib.post_raw(b"x", "text/plain", url=url),                      # would be 415
        apilib.post_raw(b"--x\r\n", "multipart/form-data", url=url),       # would be 400
        apilib.post_payload({"code": "x = 1", "globals_dict": {}, "unsafely": True}, url=url),
    ]:
        apilib.assert_error(resp, 500, "Codejail service not enabled")
    h = requests.get(disabled_base + "/health/", timeout=TIMEOUT)
    assert h.status_code == 200
    assert h.content == HEALTH_OK


def test_unconfigured_service_refuses_with_500_and_health_503(unconfigured_base):
    """Check 2: probes failed -> 500 before the body is parsed; /health/ 503."""
    url = unconfigured_base + apilib.EXEC_PATH
    for resp in [
        apilib.post_payload({"code": "x = 1", "globals_dict": {}}, url=url),
        apilib.post_raw(b"", None, url=url),
        apilib.post_raw(b"x", "text/plain", url=url),
        apilib.post_raw(b"--x\r\n", "multipart/form-data", url=url),
    ]:
        apilib.assert_error(resp, 500, "Codejail service is not correctly configured")
    for method in ["GET", "POST"]:
        h = requests.request(method, unconfigured_base + "/health/", timeout=TIMEOUT)
        assert h.status_code == 503
        assert h.headers.get("Content-Type") == JSON_TYPE
        assert h.content == HEALTH_UNAVAILABLE
