#!/usr/bin/python3
"""The oracle: request bodies as the reference's DRF + Django 4.2 parses them.

Runs under Debian's /usr/bin/python3 with PYTHONPATH at the Django that
fetch-django-oracle unpacked. Reads records (records.py) from stdin and
prints one JSON line per record, in the shape cjs_form_parse_json prints.

Each body goes through a real WSGIRequest and the steps DRF 3.16 takes for
it (rest_framework/request.py and parsers.py, a few lines each): an empty body
is no data whatever the type; FormParser is QueryDict(body, request encoding);
MultiPartParser is Django's MultiPartParser with the request's upload
handlers, its errors prefixed "Multipart form parse error - ". Settings are
the reference's: openedx/codejail-service sets none of DATA_UPLOAD_* or
FILE_UPLOAD_*, so Django's defaults apply (written out below).
"""

import io
import json
import os
import sys

import django
from django.conf import settings

settings.configure(
    DEBUG=False,
    DEFAULT_CHARSET="utf-8",
    DATA_UPLOAD_MAX_MEMORY_SIZE=2621440,
    DATA_UPLOAD_MAX_NUMBER_FIELDS=1000,
    DATA_UPLOAD_MAX_NUMBER_FILES=100,
    FILE_UPLOAD_MAX_MEMORY_SIZE=2621440,
    FILE_UPLOAD_HANDLERS=[
        "django.core.files.uploadhandler.MemoryFileUploadHandler",
        "django.core.files.uploadhandler.TemporaryFileUploadHandler",
    ],
)

# pylint: disable=wrong-import-position
from django.core.exceptions import SuspiciousOperation  # noqa: E402
from django.core.handlers.wsgi import WSGIRequest  # noqa: E402
from django.http import QueryDict  # noqa: E402
from django.http.multipartparser import MultiPartParser, MultiPartParserError  # noqa: E402
from django.utils.http import parse_header_parameters  # noqa: E402

sys.path.insert(0, __file__.rsplit("/", 1)[0])
import records  # noqa: E402

URLENCODED = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"


def environ_for(content_type, body):
    return {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/api/v0/code-exec",
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "8550",
        "wsgi.url_scheme": "http",
        # WSGI hands header values over as ISO-8859-1 text.
        "CONTENT_TYPE": content_type.decode("latin-1"),
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
    }


def media_type(content_type):
    """DRF matches parsers on parse_header_parameters' key (the bug list in
    docs/api.md section 9 has its wildcards, which no generated body uses)."""
    return parse_header_parameters(content_type)[0]


def parse(content_type, body):
    request = WSGIRequest(environ_for(content_type, body))
    if not body:  # DRF: Content-Length 0 means no stream, no parser
        return QueryDict(), {}
    kind = media_type(request.META["CONTENT_TYPE"])
    encoding = request.encoding or settings.DEFAULT_CHARSET
    if kind == URLENCODED:
        return QueryDict(request.read(), encoding=encoding), {}
    if kind == MULTIPART:
        meta = request.META.copy()
        try:
            parser = MultiPartParser(meta, request, request.upload_handlers, encoding)
            return parser.parse()
        except MultiPartParserError as exc:
            raise SuspiciousOperation(f"Multipart form parse error - {exc}") from exc
    return None, None


def result_of(content_type, body):
    try:
        data, files = parse(content_type, body)
    except SuspiciousOperation as exc:  # a 400 with Django's message
        return {"error": str(exc)}
    except Exception as exc:  # pylint: disable=broad-except
        return {"crash": f"{type(exc).__name__}: {exc}"}  # a 500 in the reference
    if data is None:
        return {"unsupported": True}
    out_files = []
    for name in files:
        upload = files[name]  # MultiValueDict: the last one
        upload.seek(0)
        out_files.append([name, upload.read().hex()])
        for each in files.getlist(name):
            each.close()
    return {"fields": [[name, values] for name, values in data.lists()], "files": out_files}


def main():
    out = sys.stdout
    for content_type, body in records.read(sys.stdin.buffer):
        out.write(json.dumps(result_of(content_type, body)) + "\n")
    out.flush()
    where = os.path.realpath(os.path.dirname(django.__file__))
    print(f"django {django.get_version()} from {where}", file=sys.stderr)


if __name__ == "__main__":
    main()
