"""api.md section 2: the request (encodings, multipart rules, sizes, the
checks in their order, and how the payload JSON is parsed)."""

import json
import os
import socket
import urllib.parse

import pytest
import requests

import apilib
from apilib import EXEC_URL, JSON_TYPE, TIMEOUT, assert_error, exec_body

MISSING = "Missing 'payload' parameter in POST body"
BAD_PATH = "Only allowed entry in 'python_path' is 'python_lib.zip'"
TOO_MANY_PATHS = "At most 1000 entries are allowed in 'python_path'"
BAD_FILE = "Only allowed name for uploaded file is 'python_lib.zip'"
UNSAFELY = "Refusing codejail execution with unsafely=true"
SCHEMA = "Payload JSON did not match schema at path "
BAD_JSON = "Unable to parse payload JSON: "

LIB = apilib.make_zip({"cjs_mod.py": "V = 1\n"})
LIB2 = apilib.make_zip({"cjs_mod.py": "V = 2\n"})

# Code that reports what the sandbox sees of an upload.
SEE_LIB = (
    "import os, sys\n"
    "listed = 'python_lib.zip' in os.listdir('.')\n"
    "size = os.path.getsize('python_lib.zip') if listed else None\n"
    "on_path = [os.path.basename(p) for p in sys.path].count('python_lib.zip')\n"
    "try:\n"
    "    import cjs_mod\n"
    "    v = cjs_mod.V\n"
    "except ImportError:\n"
    "    v = 'no'\n"
)


def multipart(parts, boundary="cjsBoundary7MA4YWxk", preamble=b"", epilogue=b""):
    """A hand-made multipart/form-data body. `parts` are (disposition params,
    content, extra header lines)."""
    b = boundary.encode()
    out = preamble
    for params, content, extra in parts:
        out += b"--" + b + b"\r\n"
        out += b"Content-Disposition: form-data; " + params.encode() + b"\r\n"
        for line in extra:
            out += line.encode() + b"\r\n"
        out += b"\r\n" + (content.encode() if isinstance(content, str) else content) + b"\r\n"
    out += b"--" + b + b"--\r\n" + epilogue
    return out


def post_multipart(parts, boundary="cjsBoundary7MA4YWxk", content_type=None, **kw):
    body = multipart(parts, boundary, **kw)
    ct = content_type or "multipart/form-data; boundary=" + boundary
    return apilib.post_raw(body, ct)


def payload_part(payload, extra=()):
    text = payload if isinstance(payload, str) else json.dumps(payload)
    return ('name="payload"', text, list(extra))


def ok_payload(code="x = x + 1", globals_dict=None, **extra):
    """A valid payload; it names the ample context when one is configured (as
    edxapp names its course), so that only the request's handling decides the
    answer, not the host's speed. `extra` may override that."""
    p = {"code": code, "globals_dict": {"x": 16} if globals_dict is None else globals_dict}
    if apilib.AMPLE_CONTEXT is not None:
        p["limit_overrides_context"] = apilib.AMPLE_CONTEXT
    p.update(extra)
    return p


# ================================================================ encodings

def test_urlencoded_exactly_as_edxapp_sends_it():
    payload = {"code": "x = x + 1", "globals_dict": {"x": 16}}
    prepared = requests.Request("POST", EXEC_URL, data={"payload": json.dumps(payload)}).prepare()
    assert prepared.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert "+" in prepared.body  # spaces as '+'
    with requests.Session() as s:
        resp = s.send(prepared, timeout=TIMEOUT)
    apilib.check_json_response(resp)
    assert resp.content == b'{"globals_dict":{"x":17}}'


def test_urlencoded_decoding_of_special_characters():
    text = "a+b&c=d%20e f\u00e9\u4e2d\U0001f600\n\t'\"\\"
    resp = apilib.execute("t = s + '!'", {"s": text})
    apilib.check_json_response(resp)
    assert resp.content == exec_body({"s": text, "t": text + "!"})


def test_urlencoded_hand_made_with_charset_parameter():
    payload = json.dumps({"code": "y = 2", "globals_dict": {}})
    body = ("payload=" + urllib.parse.quote(payload, safe="")).encode()  # %20, not '+'
    resp = apilib.post_raw(body, "application/x-www-form-urlencoded; charset=utf-8")
    apilib.check_json_response(resp)
    assert resp.content == b'{"globals_dict":{"y":2}}'


def test_urlencoded_other_fields_are_ignored():
    body = ("a=1&payload=" + urllib.parse.quote_plus(json.dumps(ok_payload())) + "&b=&c").encode()
    resp = apilib.post_raw(body, "application/x-www-form-urlencoded")
    apilib.check_json_response(resp)
    assert resp.content == b'{"globals_dict":{"x":17}}'


def test_urlencoded_repeated_payload_field_last_wins():
    # Django's QueryDict: the last value of a repeated field.
    first = json.dumps(ok_payload("x = 1"))
    last = json.dumps(ok_payload("x = 2"))
    body = ("payload=%s&payload=%s" % (urllib.parse.quote_plus(first),
                                       urllib.parse.quote_plus(last))).encode()
    resp = apilib.post_raw(body, "application/x-www-form-urlencoded")
    assert resp.content == b'{"globals_dict":{"x":2}}'


def test_multipart_exactly_as_edxapp_sends_it():
    payload = ok_payload(SEE_LIB, {}, python_path=["python_lib.zip"])
    prepared = requests.Request("POST", EXEC_URL, data={"payload": json.dumps(payload)},
                                files=[("python_lib.zip", LIB)]).prepare()
    assert prepared.headers["Content-Type"].startswith("multipart/form-data; boundary=")
    # payload first, then the file part with no Content-Type of its own.
    assert prepared.body.index(b'name="payload"') < prepared.body.index(
        b'name="python_lib.zip"; filename="python_lib.zip"')
    with requests.Session() as s:
        resp = s.send(prepared, timeout=TIMEOUT)
    apilib.check_json_response(resp)
    assert resp.content == exec_body({"listed": True, "size": len(LIB), "on_path": 1, "v": 1})


def test_multipart_without_files_works_too():
    resp = post_multipart([payload_part(ok_payload())])
    apilib.check_json_response(resp)
    assert resp.content == b'{"globals_dict":{"x":17}}'


def test_multipart_with_quoted_boundary_preamble_and_epilogue():
    body = multipart([payload_part(ok_payload())], boundary="quoted-b",
                     preamble=b"This is the preamble.\r\n", epilogue=b"and an epilogue\r\n")
    resp = apilib.post_raw(body, 'multipart/form-data; boundary="quoted-b"')
    apilib.check_json_response(resp)
    assert resp.content == b'{"globals_dict":{"x":17}}'


def test_multipart_payload_field_is_utf8():
    text = "caf\u00e9 \u4e2d \U0001f600"
    raw = json.dumps(ok_payload("t = s", {"s": text}), ensure_ascii=False)
    resp = post_multipart([payload_part(raw)])
    apilib.check_json_response(resp)
    assert resp.content == exec_body({"s": text, "t": text})


# ---------------------------------------------------------------------- 415

@pytest.mark.parametrize("content_type", [
    "text/plain",
    "text/plain; charset=utf-8",
    "application/json",
    "application/octet-stream",
    "application/xml",
])
def test_other_content_types_are_415(content_type):
    body = ("payload=" + urllib.parse.quote_plus(json.dumps(ok_payload()))).encode()
    resp = apilib.post_raw(body, content_type)
    apilib.check_json_response(resp, 415)
    # The media type in the message is the full header value.
    assert resp.content == apilib.detail_body('Unsupported media type "%s" in request.' % content_type)
    assert resp.content == ('{"detail":"Unsupported media type \\"%s\\" in request."}'
                            % content_type).encode()


def test_json_body_is_415_not_accepted():
    resp = requests.post(EXEC_URL, json=ok_payload(), timeout=TIMEOUT)
    apilib.check_json_response(resp, 415)
    assert resp.content == b'{"detail":"Unsupported media type \\"application/json\\" in request."}'


def test_body_without_content_type_is_415():
    body = ("payload=" + urllib.parse.quote_plus(json.dumps(ok_payload()))).encode()
    resp = apilib.post_raw(body, None)
    apilib.check_json_response(resp, 415)
    assert resp.content == b'{"detail":"Unsupported media type \\"\\" in request."}'


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded",
                                          "multipart/form-data; boundary=x"])
def test_empty_body_is_missing_payload_whatever_the_type(content_type):
    # An empty body is no data at all: check 3, not 415.
    assert_error(apilib.post_raw(b"", content_type), 400, MISSING)


# ------------------------------------------------------- malformed multipart

def assert_detail_400(resp):
    apilib.check_json_response(resp, 400)
    body = json.loads(resp.content)
    assert list(body) == ["detail"], body
    assert isinstance(body["detail"], str) and body["detail"], body


@pytest.mark.parametrize("content_type", [
    "multipart/form-data",                          # no boundary at all
    "multipart/form-data; boundary=",               # empty boundary
    "multipart/form-data; boundary=" + "b" * 202,   # longer than Django's 201 characters
    'multipart/form-data; boundary="bad boundary "',  # ends with a space
])
def test_malformed_multipart_is_400_detail(content_type):
    body = multipart([payload_part(ok_payload())], boundary="cjsBoundary7MA4YWxk")
    assert_detail_400(apilib.post_raw(body, content_type))


def test_missing_boundary_detail_matches_the_reference():
    # The REST framework's ParseError around Django's MultiPartParserError.
    body = multipart([payload_part(ok_payload())])
    resp = apilib.post_raw(body, "multipart/form-data")
    apilib.check_json_response(resp, 400)
    assert resp.content == (b'{"detail":"Multipart form parse error - '
                            b'Invalid boundary in multipart: None"}')


# ----------------------------------------------------------- multipart rules

def test_file_name_is_the_field_name_not_the_filename():
    resp = post_multipart([
        payload_part(ok_payload(SEE_LIB, {}, python_path=["python_lib.zip"])),
        ('name="python_lib.zip"; filename="course-library-v3.zip"', LIB, []),
    ])
    apilib.check_json_response(resp)
    assert resp.content == exec_body({"listed": True, "size": len(LIB), "on_path": 1, "v": 1})


def test_filename_python_lib_zip_under_another_name_is_refused():
    resp = post_multipart([
        payload_part(ok_payload()),
        ('name="lib.zip"; filename="python_lib.zip"', LIB, []),
    ])
    assert_error(resp, 400, BAD_FILE)


def test_part_with_name_only_is_a_field_not_a_file():
    # A python_lib.zip FIELD is no upload: the python_path entry finds no file.
    resp = post_multipart([
        payload_part(ok_payload(SEE_LIB, {"a": 1}, python_path=["python_lib.zip"])),
        ('name="python_lib.zip"', LIB, []),
    ])
    apilib.check_json_response(resp)
    assert resp.content == exec_body({"a": 1}, apilib.MACHINERY_FAILURE)


def test_name_only_part_with_other_name_is_just_an_ignored_field():
    resp = post_multipart([
        payload_part(ok_payload()),
        ('name="other.zip"', LIB, []),
    ])
    apilib.check_json_response(resp)
    assert resp.content == b'{"globals_dict":{"x":17}}'


def test_part_without_name_is_ignored():
    resp = post_multipart([
        ('filename="python_lib.zip"', LIB, []),
        payload_part(ok_payload()),
    ])
    apilib.check_json_response(resp)
    assert resp.content == b'{"globals_dict":{"x":17}}'


def test_empty_filename_parts_are_skipped():
    resp = post_multipart([
        payload_part(ok_payload()),
        ('name="not-allowed.zip"; filename=""', LIB, []),
    ])
    apilib.check_json_response(resp)
    assert resp.content == b'{"globals_dict":{"x":17}}'


def test_empty_filename_python_lib_zip_is_no_upload():
    resp = post_multipart([
        payload_part(ok_payload(SEE_LIB, {"a": 1}, python_path=["python_lib.zip"])),
        ('name="python_lib.zip"; filename=""', LIB, []),
    ])
    apilib.check_json_response(resp)
    assert resp.content == exec_body({"a": 1}, apilib.MACHINERY_FAILURE)


def test_duplicate_file_names_last_wins():
    resp = post_multipart([
        payload_part(ok_payload(SEE_LIB, {}, python_path=["python_lib.zip"])),
        ('name="python_lib.zip"; filename="one.zip"', LIB, []),
        ('name="python_lib.zip"; filename="two.zip"', LIB2, []),
    ])
    apilib.check_json_response(resp)
    assert resp.content == exec_body({"listed": True, "size": len(LIB2), "on_path": 1, "v": 2})


def test_duplicate_file_names_last_wins_with_requests():
    payload = ok_payload(SEE_LIB, {}, python_path=["python_lib.zip"])
    resp = apilib.post_payload(payload, files=[("python_lib.zip", LIB2), ("python_lib.zip", LIB)])
    apilib.check_json_response(resp)
    assert resp.content == exec_body({"listed": True, "size": len(LIB), "on_path": 1, "v": 1})


def test_part_content_types_are_ignored():
    resp = post_multipart([
        payload_part(ok_payload(SEE_LIB, {}, python_path=["python_lib.zip"]),
                     extra=["Content-Type: application/octet-stream"]),
        ('name="python_lib.zip"; filename="python_lib.zip"', LIB, ["Content-Type: text/plain"]),
    ])
    apilib.check_json_response(resp)
    assert resp.content == exec_body({"listed": True, "size": len(LIB), "on_path": 1, "v": 1})


def test_empty_file_is_allowed():
    resp = apilib.post_payload(ok_payload(SEE_LIB, {}), files=[("python_lib.zip", b"")])
    apilib.check_json_response(resp)
    assert resp.content == exec_body({"listed": True, "size": 0, "on_path": 0, "v": "no"})


def test_payload_sent_as_a_file_part_is_400():
    # The reference crashes (500) here; the contract says 400.
    resp = post_multipart([
        ('name="payload"; filename="payload.json"', json.dumps(ok_payload()), []),
    ])
    apilib.check_json_response(resp, 400)
    body = json.loads(resp.content)
    assert isinstance(body, dict) and len(body) == 1, body
    assert isinstance(body.get("error", body.get("detail")), str), body


def test_payload_sent_as_a_file_part_with_requests_is_400():
    resp = requests.post(EXEC_URL, files=[("payload", json.dumps(ok_payload()).encode())],
                         timeout=TIMEOUT)
    apilib.check_json_response(resp, 400)


# -------------------------------------------------------------------- sizes

MIB = 1 << 20


def test_20_mib_zip_upload_is_accepted():
    blob = os.urandom(20 * MIB)
    lib = apilib.make_zip({"cjs_big.py": "V = 'big'\n", "blob.bin": blob}, compression=0)
    assert len(lib) > 20 * MIB
    code = ("import os, zipfile, cjs_big\n"
            "v = cjs_big.V\n"
            "size = os.path.getsize('python_lib.zip')\n"
            "member = zipfile.ZipFile('python_lib.zip').getinfo('blob.bin').file_size\n")
    resp = apilib.post_payload(ok_payload(code, {}, python_path=["python_lib.zip"]),
                               files=[("python_lib.zip", lib)])
    apilib.check_json_response(resp)
    assert resp.content == exec_body({"v": "big", "size": len(lib), "member": 20 * MIB})


def test_20_mib_urlencoded_payload_is_accepted():
    # A 20 MiB payload string (an ignored extra key), with '+' and %-escapes.
    padding = ("abc def/" * (20 * MIB // 8 + 1))[:20 * MIB]
    payload = ok_payload(padding_is_ignored=padding)
    prepared = requests.Request("POST", EXEC_URL, data={"payload": json.dumps(payload)}).prepare()
    assert len(prepared.body) > 20 * MIB
    with requests.Session() as s:
        resp = s.send(prepared, timeout=TIMEOUT)
    apilib.check_json_response(resp)
    assert resp.content == b'{"globals_dict":{"x":17}}'


def test_20_mib_multipart_payload_field_is_accepted():
    payload = ok_payload(padding_is_ignored="z" * (20 * MIB))
    resp = post_multipart([payload_part(payload)])
    apilib.check_json_response(resp)
    assert resp.content == b'{"globals_dict":{"x":17}}'


def _assert_413(resp):
    assert resp.status_code == 413, (resp.status_code, resp.content[:500])
    assert resp.headers.get("Content-Type") == JSON_TYPE
    body = json.loads(resp.content)
    assert isinstance(body, dict) and body, body


def test_over_the_cap_declared_length_is_413_before_the_body():
    # Content-Length of 40 MiB; the answer must come without sending it.
    host, port = apilib.service_host_port()
    with socket.create_connection((host, port), timeout=30) as s:
        s.sendall(b"POST /api/v0/code-exec HTTP/1.1\r\nHost: x\r\n"
                  b"Content-Type: application/x-www-form-urlencoded\r\n"
                  b"Content-Length: 41943040\r\n\r\npayload=")
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    status_line = data.split(b"\r\n", 1)[0]
    assert status_line.startswith(b"HTTP/1.1 413"), data[:500]


def test_over_the_cap_urlencoded_body_is_413():
    body = b"payload=" + b"x" * (33 * MIB)
    _assert_413(apilib.post_raw(body, "application/x-www-form-urlencoded"))
    apilib.assert_service_fine()


def test_over_the_cap_zip_upload_is_413():
    _assert_413(apilib.post_payload(ok_payload(), files=[("python_lib.zip", b"\0" * (33 * MIB))]))
    apilib.assert_service_fine()


def test_over_the_cap_chunked_body_is_413():
    def chunks():
        yield b"payload="
        for _ in range(34):
            yield b"x" * MIB
    _assert_413(requests.post(EXEC_URL, data=chunks(), timeout=TIMEOUT,
                              headers={"Content-Type": "application/x-www-form-urlencoded"}))
    apilib.assert_service_fine()


# ================================================================ framing
# api.md 5: a body framed in a way this service does not read unambiguously
# (RFC 9112 6.1, 6.3) is 400 and the connection is closed, so that nothing
# sent after it on the connection is taken as a request (request smuggling).

SMUGGLED = b"GET /health/ HTTP/1.1\r\nHost: x\r\n\r\n"
MALFORMED = b'{"detail":"Malformed HTTP request"}'


def exchange(raw, timeout=60):
    """Sends `raw` on one connection and reads until the service closes it.
    Returns (everything received, whether the service closed it)."""
    host, port = apilib.service_host_port()
    data = b""
    with socket.create_connection((host, port), timeout=timeout) as s:
        s.sendall(raw)
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    return data, True
                data += chunk
        except socket.timeout:
            return data, False


def exec_request(headers, body, version=b"HTTP/1.1"):
    return (b"POST " + EXEC_PATH_BYTES + b" " + version + b"\r\nHost: x\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n" + headers + b"\r\n" + body)


EXEC_PATH_BYTES = apilib.EXEC_PATH.encode()


@pytest.mark.parametrize("version,headers,body", [
    # No body as far as Beast knows: the smuggled request follows the header.
    (b"HTTP/1.1", b"Transfer-Encoding: gzip\r\n", SMUGGLED),
    (b"HTTP/1.1", b"Transfer-Encoding: identity\r\n", SMUGGLED),
    (b"HTTP/1.1", b"Transfer-Encoding: chunked, identity\r\n", SMUGGLED),
    (b"HTTP/1.1", b"Transfer-Encoding: gzip\r\nContent-Length: 0\r\n", SMUGGLED),
    # Chunked last, but a coding this service does not decode comes first.
    (b"HTTP/1.1", b"Transfer-Encoding: gzip, chunked\r\n", b"0\r\n\r\n" + SMUGGLED),
    # Two field lines: "gzip, chunked" again, spelled in a way proxies disagree on.
    (b"HTTP/1.1", b"Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n",
     b"0\r\n\r\n" + SMUGGLED),
    # RFC 9112 6.1: an HTTP/1.0 message with Transfer-Encoding is faulty framing.
    (b"HTTP/1.0", b"Connection: keep-alive\r\nTransfer-Encoding: chunked\r\n",
     b"0\r\n\r\n" + SMUGGLED),
], ids=["gzip", "identity", "chunked-identity", "gzip-with-content-length", "gzip-chunked",
        "two-fields", "http10-chunked"])
def test_unknown_framing_is_400_and_the_connection_closes(version, headers, body):
    data, closed = exchange(exec_request(headers, body, version))
    assert data.startswith(b"HTTP/1.1 400 "), data[:500]
    assert data.endswith(b"\r\n\r\n" + MALFORMED), data[:2000]
    assert data.count(b"HTTP/1.") == 1, data[:2000]  # the smuggled request was not answered
    assert closed, data[:2000]


def test_chunked_transfer_encoding_still_works():
    text = urllib.parse.urlencode({"payload": json.dumps(ok_payload())}).encode()
    chunked = b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in (text[:10], text[10:]))
    pipelined = b"GET /health/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    data, closed = exchange(exec_request(b"Transfer-Encoding: chunked\r\n",
                                         chunked + b"0\r\n\r\n" + pipelined))
    assert data.startswith(b"HTTP/1.1 200 "), data[:2000]
    first, _, rest = data.partition(b"\r\n\r\n")
    assert rest.startswith(exec_body({"x": 17}) + b"HTTP/1.1 200 "), data[:2000]
    assert rest.endswith(b'{"status": "OK"}'), data[:2000]
    assert closed


# ========================================================== checks 3 to 8

def test_check3_no_payload_field_urlencoded():
    assert_error(apilib.post_raw(b"code=x&globals_dict=%7B%7D", "application/x-www-form-urlencoded"),
                 400, MISSING)


def test_check3_no_payload_field_multipart():
    resp = post_multipart([('name="code"', "x = 1", [])])
    assert_error(resp, 400, MISSING)


def test_check3_only_a_file_multipart():
    resp = requests.post(EXEC_URL, files=[("python_lib.zip", LIB)], timeout=TIMEOUT)
    assert_error(resp, 400, MISSING)


def test_check3_payload_name_is_case_sensitive():
    body = ("Payload=" + urllib.parse.quote_plus(json.dumps(ok_payload()))).encode()
    assert_error(apilib.post_raw(body, "application/x-www-form-urlencoded"), 400, MISSING)


def test_check4_not_json_python_message():
    assert_error(apilib.post_payload("not json"), 400,
                 BAD_JSON + "Expecting value: line 1 column 1 (char 0)")


@pytest.mark.parametrize("text", ["{", "{'code': 'x'}", "{} x", '{"code": "x",}', "[1,]",
                                  '{"code": "\\q"}', "nan", "True", "\u00e9"])
def test_check4_other_bad_json(text):
    resp = apilib.post_payload(text)
    apilib.check_json_response(resp, 400)
    body = json.loads(resp.content)
    assert list(body) == ["error"]
    assert body["error"].startswith(BAD_JSON), body
    assert len(body["error"]) > len(BAD_JSON)


def test_check4_whitespace_around_json_is_fine():
    resp = apilib.post_payload("  \n" + json.dumps(ok_payload()) + "\n\t ")
    assert resp.content == b'{"globals_dict":{"x":17}}'


@pytest.mark.parametrize("payload,message", [
    ({}, "$: 'code' is a required property"),
    ({"globals_dict": {}}, "$: 'code' is a required property"),
    ({"code": "x"}, "$: 'globals_dict' is a required property"),
    ({"code": 5, "globals_dict": {}}, "$.code: 5 is not of type 'string'"),
    ({"code": None, "globals_dict": {}}, "$.code: None is not of type 'string'"),
    ({"code": "x", "globals_dict": []}, "$.globals_dict: [] is not of type 'object'"),
    ({"code": "x", "globals_dict": None}, "$.globals_dict: None is not of type 'object'"),
    ({"code": "x", "globals_dict": {}, "unsafely": None}, "$.unsafely: None is not of type 'boolean'"),
    ({"code": "x", "globals_dict": {}, "unsafely": "true"}, "$.unsafely: 'true' is not of type 'boolean'"),
    ({"code": "x", "globals_dict": True}, "$.globals_dict: True is not of type 'object'"),
    ({"code": "x", "globals_dict": 1.0}, "$.globals_dict: 1.0 is not of type 'object'"),
    ({"code": "x", "globals_dict": "caf\u00e9"}, "$.globals_dict: 'caf\u00e9' is not of type 'object'"),
    ([], "$: [] is not of type 'object'"),
    (None, "$: None is not of type 'object'"),
    ("code", "$: 'code' is not of type 'object'"),
], ids=["empty", "no-code", "no-globals", "code-5", "code-null", "globals-list", "globals-null",
        "unsafely-null", "unsafely-string", "globals-true", "globals-float", "globals-non-ascii",
        "list", "null", "string"])
def test_check5_schema_mismatch_exact(payload, message):
    assert_error(apilib.post_payload(json.dumps(payload)), 400, SCHEMA + message)


@pytest.mark.parametrize("extra,path", [
    ({"python_path": "python_lib.zip"}, "$.python_path"),
    ({"python_path": [5]}, "$.python_path[0]"),
    ({"python_path": ["python_lib.zip", None]}, "$.python_path[1]"),
    ({"limit_overrides_context": 5}, "$.limit_overrides_context"),
    ({"slug": ["x"]}, "$.slug"),
    ({"unsafely": 0}, "$.unsafely"),
])
def test_check5_schema_mismatch_paths(extra, path):
    payload = dict(ok_payload(), **extra)
    resp = apilib.post_payload(payload)
    apilib.check_json_response(resp, 400)
    body = json.loads(resp.content)
    assert list(body) == ["error"]
    assert body["error"].startswith(SCHEMA + path + ": "), body


def test_check5_extra_keys_are_ignored():
    resp = apilib.post_payload(ok_payload(extra_files=[], something={"a": [1]}, version=2))
    assert resp.content == b'{"globals_dict":{"x":17}}'


@pytest.mark.parametrize("extra", [
    {"python_path": None}, {"python_path": []}, {"limit_overrides_context": None},
    {"limit_overrides_context": "course-v1:edX+DemoX+Demo_Course"}, {"slug": None},
    {"slug": "block-v1:edX+DemoX+Demo_Course+type@problem+block@abc"}, {"unsafely": False},
])
def test_optional_keys_accepted(extra):
    resp = apilib.post_payload(ok_payload(**extra))
    apilib.check_json_response(resp)
    assert resp.content == b'{"globals_dict":{"x":17}}'


@pytest.mark.parametrize("python_path", [
    ["other.zip"], ["python_lib.zip", "x"], ["../python_lib.zip"], ["/tmp/python_lib.zip"],
    ["python_lib.zip/"], [""], ["Python_lib.zip"], ["python_lib.zip\u0000"],
])
def test_check6_python_path_entries(python_path):
    resp = apilib.post_payload(ok_payload(python_path=python_path), files=[("python_lib.zip", LIB)])
    assert_error(resp, 400, BAD_PATH)


def test_check6_duplicate_python_lib_zip_entry_is_allowed():
    resp = apilib.post_payload(ok_payload(SEE_LIB, {}, python_path=["python_lib.zip", "python_lib.zip"]),
                               files=[("python_lib.zip", LIB)])
    apilib.check_json_response(resp)
    body = json.loads(resp.content)
    assert "emsg" not in body
    assert body["globals_dict"]["v"] == 1
    assert body["globals_dict"]["on_path"] >= 1


def test_check6_1000_python_path_entries_are_allowed():
    resp = apilib.post_payload(ok_payload(SEE_LIB, {}, python_path=["python_lib.zip"] * 1000),
                               files=[("python_lib.zip", LIB)])
    apilib.check_json_response(resp)
    body = json.loads(resp.content)
    assert "emsg" not in body
    assert body["globals_dict"]["v"] == 1


@pytest.mark.parametrize("entries", [1001, 1000000])
def test_check6_more_than_1000_python_path_entries_are_refused(entries):
    # Each entry becomes a line of the sandbox's code: a million of them
    # made a 34 MB file before this bound (api.md 2.2, check 6).
    resp = apilib.post_payload(ok_payload(python_path=["python_lib.zip"] * entries),
                               files=[("python_lib.zip", LIB)])
    assert_error(resp, 400, TOO_MANY_PATHS)


def test_check6_too_many_entries_comes_before_other_entries():
    resp = apilib.post_payload(ok_payload(python_path=["python_lib.zip"] * 1000 + ["other"]),
                               files=[("python_lib.zip", LIB)])
    assert_error(resp, 400, TOO_MANY_PATHS)


@pytest.mark.parametrize("files", [
    [("lib.zip", LIB)],
    [("python_lib.zip", LIB), ("other", b"x")],
    [("../python_lib.zip", LIB)],
    [("/etc/passwd", b"x")],
    [("python_lib.zip/../x", b"x")],
    [("PYTHON_LIB.ZIP", LIB)],
])
def test_check7_uploaded_file_names(files):
    resp = apilib.post_payload(ok_payload(), files=files)
    assert_error(resp, 400, BAD_FILE)


def test_check8_unsafely_true_is_refused():
    assert_error(apilib.post_payload(ok_payload(unsafely=True)), 400, UNSAFELY)


# ------------------------------------------------------------- check order

def test_order_missing_payload_before_bad_file():
    resp = requests.post(EXEC_URL, data={"other": "1"}, files=[("evil.zip", b"x")], timeout=TIMEOUT)
    assert_error(resp, 400, MISSING)


def test_order_bad_json_before_bad_file():
    resp = apilib.post_payload("{nope", files=[("evil.zip", b"x")])
    apilib.check_json_response(resp, 400)
    assert json.loads(resp.content)["error"].startswith(BAD_JSON), resp.content


def test_order_schema_before_python_path_files_and_unsafely():
    payload = {"code": 5, "globals_dict": {}, "python_path": ["evil"], "unsafely": True}
    assert_error(apilib.post_payload(payload, files=[("evil.zip", b"x")]), 400,
                 SCHEMA + "$.code: 5 is not of type 'string'")


def test_order_python_path_before_files_and_unsafely():
    payload = ok_payload(python_path=["evil"], unsafely=True)
    assert_error(apilib.post_payload(payload, files=[("evil.zip", b"x")]), 400, BAD_PATH)


def test_order_files_before_unsafely():
    payload = ok_payload(python_path=["python_lib.zip"], unsafely=True)
    assert_error(apilib.post_payload(payload, files=[("evil.zip", b"x")]), 400, BAD_FILE)


# ================================================== payload JSON (2.1)

def post_text(text, files=None):
    """Posts a hand-written payload JSON text (duplicate keys, NaN, ...), an
    object to which the ample context's key is added at the end when one is
    configured (see ok_payload)."""
    assert text.endswith("}"), text
    return apilib.post_payload(text[:-1] + apilib.ample_payload_fields() + "}", files=files)


def test_nan_and_infinity_are_accepted_and_echoed():
    resp = post_text('{"code": "d = [a, b, c]", "globals_dict": {"a": NaN, "b": Infinity, "c": -Infinity}}')
    apilib.check_json_response(resp)
    assert resp.content == (b'{"globals_dict":{"a":NaN,"b":Infinity,"c":-Infinity,'
                            b'"d":[NaN,Infinity,-Infinity]}}')


def test_big_integers_survive_exactly():
    n = 2 ** 70
    resp = post_text('{"code": "m = n + 1\\nk = -n * n", "globals_dict": {"n": %d, "z": -%d}}' % (n, n))
    apilib.check_json_response(resp)
    assert resp.content == b'{"globals_dict":{"n":%d,"z":-%d,"m":%d,"k":%d}}' % (n, n, n + 1, -n * n)


def test_big_integer_unchanged_on_error():
    n = 10 ** 40 + 7
    resp = post_text('{"code": "1/0", "globals_dict": {"n": %d}}' % n)
    apilib.check_json_response(resp)
    assert resp.content.startswith(b'{"globals_dict":{"n":%d},"emsg":' % n)


@pytest.mark.parametrize("literal", ["1.0", "0.5", "-0.0", "3.14159", "100.0", "0.1", "-2.5"])
def test_floats_survive_as_written(literal):
    # Success path (the input keys are echoed) and error path alike.
    ok = post_text('{"code": "g = f", "globals_dict": {"f": %s}}' % literal)
    apilib.check_json_response(ok)
    assert ok.content == ('{"globals_dict":{"f":%s,"g":%s}}' % (literal, literal)).encode()
    err = post_text('{"code": "raise ValueError", "globals_dict": {"f": %s}}' % literal)
    apilib.check_json_response(err)
    assert err.content.startswith(('{"globals_dict":{"f":%s},"emsg":' % literal).encode())


def test_one_point_zero_stays_a_float_in_the_sandbox():
    resp = post_text('{"code": "t = type(f).__name__\\ng = f * 3", "globals_dict": {"f": 1.0}}')
    assert resp.content == b'{"globals_dict":{"f":1.0,"t":"float","g":3.0}}'


def test_duplicate_keys_last_wins():
    text = ('{"code": "x = 1", "globals_dict": {"a": 1, "b": 2, "a": 3}, '
            '"code": "x = 2", "unsafely": true, "unsafely": false}')
    resp = post_text(text)
    apilib.check_json_response(resp)
    # Python's dict: the first position, the last value.
    assert resp.content == b'{"globals_dict":{"a":3,"b":2,"x":2}}'


def test_unicode_escapes_in_payload():
    resp = post_text('{"code": "t = s", "globals_dict": {"s": "\\u00e9\\ud83d\\ude00\\u2028"}}')
    apilib.check_json_response(resp)
    assert resp.content == '{"globals_dict":{"s":"\u00e9\U0001f600\\u2028","t":"\u00e9\U0001f600\\u2028"}}'.encode()


# ======================================================= python_path rules

def test_python_path_without_upload_answers_machinery_failure():
    payload = ok_payload("import os\nx = 99", {"a": 1, "b": [1, 2]}, python_path=["python_lib.zip"])
    resp = apilib.post_payload(payload)
    apilib.check_json_response(resp)
    assert resp.content == exec_body({"a": 1, "b": [1, 2]}, apilib.MACHINERY_FAILURE)
    assert resp.content == (b'{"globals_dict":{"a":1,"b":[1,2]},'
                            b'"emsg":"Couldn\'t execute sandboxed code: See logs."}')


def test_zip_without_python_path_is_placed_but_not_on_sys_path():
    resp = apilib.post_payload(ok_payload(SEE_LIB, {}), files=[("python_lib.zip", LIB)])
    apilib.check_json_response(resp)
    assert resp.content == exec_body({"listed": True, "size": len(LIB), "on_path": 0, "v": "no"})


def test_zip_with_python_path_is_importable():
    resp = apilib.post_payload(ok_payload(SEE_LIB, {}, python_path=["python_lib.zip"]),
                               files=[("python_lib.zip", LIB)])
    apilib.check_json_response(resp)
    assert resp.content == exec_body({"listed": True, "size": len(LIB), "on_path": 1, "v": 1})


def test_uploaded_zip_content_is_byte_exact():
    data = bytes(range(256)) * 64
    code = ("import hashlib\n"
            "with open('python_lib.zip', 'rb') as f:\n"
            "    digest = hashlib.sha256(f.read()).hexdigest()\n")
    import hashlib
    resp = apilib.post_payload(ok_payload(code, {}), files=[("python_lib.zip", data)])
    assert resp.content == exec_body({"digest": hashlib.sha256(data).hexdigest()})
