"""The known differences between server/form/ and Django 4.2, one named rule
each. check_form_parser.py fails on any disagreement no rule explains.

A rule has a precondition on the request (Content-Type, body) and both
results. Where the cause can be taken out of the request, the rule also has
a `neutralize` that does so (e.g. the charset named UTF-8): the check then
runs both parsers again on the neutralized request, and the disagreement is
explained only if they now agree. Rules apply one after the other, so a
body with two known causes is neutralized twice. A rule without `neutralize`
explains by its precondition alone, which is then written narrowly. Every rule cites where the difference is documented: a
deliberate departure or a bug to fix in docs/api.md section 9 ("Where this
service differs, on purpose"). A rule for a bug goes away with its fix.

Results are the JSON objects both sides print: {"fields": [[name, [values]]],
"files": [[name, hex]]}, {"error": detail} (a 400), {"crash": "Type: text"}
(an exception: a 500 in the reference) or {"unsupported": true} (415).
"""

import codecs
import html
import re
from collections import namedtuple
from urllib.parse import unquote_to_bytes

Rule = namedtuple("Rule", "id doc why predicate neutralize")

OUR_CODECS = {"utf-8", "iso8859-1", "ascii"}  # codecs.lookup(...).name of server/form/codec
MEMORY_LIMIT = 2621440  # Django's DATA_UPLOAD_MAX_MEMORY_SIZE default, the reference's

CHARSET = re.compile(rb';\s*charset\s*=\s*"?([^";]*)', re.IGNORECASE)
RFC2231_CODEC = re.compile(rb"\*\s*=\s*\"?([^'\";\r\n]*)'")
FILE_NAME = re.compile(rb'filename(\*?)\s*=\s*("(?:[^"\\\r\n]|\\.)*"|[^;\r\n]*)', re.IGNORECASE)


def python_codec(name):
    try:
        return codecs.lookup(name.decode("latin-1")).name
    except (LookupError, ValueError):
        return None


def other_codecs(content_type, body):
    """Codec names in the request that Python knows and server/form does not:
    the charset parameter, and RFC 2231 parameters (name*=codec'lang'value)."""
    names = CHARSET.findall(content_type) + RFC2231_CODEC.findall(content_type)
    names += RFC2231_CODEC.findall(body)
    return {c for c in map(python_codec, names) if c and c not in OUR_CODECS}


def unknown_rfc2231_codec(content_type, body):
    return any(python_codec(name) is None
               for name in RFC2231_CODEC.findall(content_type) + RFC2231_CODEC.findall(body))


def file_names(body):
    """Every filename parameter of the body, decoded as Django would see it
    (quotes and escapes removed, RFC 2231 values percent-decoded)."""
    for star, raw in FILE_NAME.findall(body):
        value = raw.strip()
        if len(value) >= 2 and value[:1] == value[-1:] == b'"':
            value = value[1:-1].replace(b"\\\\", b"\\").replace(b'\\"', b'"')
        if star and value.count(b"'") == 2:
            codec, _, text = value.split(b"'")
            try:
                yield unquote_to_bytes(text).decode(codec.decode("latin-1") or "utf-8", "replace")
            except LookupError:
                continue
        else:
            yield value.decode("utf-8", "replace")


def sanitizes_to_nothing(name, printable_only):
    """MultiPartParser.sanitize_file_name's verdict: html.unescape, the last
    path component, then (Django) only printable characters."""
    name = html.unescape(name).rsplit("/")[-1].rsplit("\\")[-1]
    if printable_only:
        name = "".join(ch for ch in name if ch.isprintable())
    return name in {"", ".", ".."}


def has_base64_part(body):
    return re.search(rb"content-transfer-encoding\s*:\s*base64", body, re.IGNORECASE) is not None


BASE64_ERROR = "Multipart form parse error - Could not decode base64 data."


def differs_only_in_base64(mine, django):
    """One side's base64 error where the other has data, or the same fields
    and file names with a file's content differing."""
    if {mine.get("error"), django.get("error")} == {BASE64_ERROR, None}:
        return "fields" in mine or "fields" in django
    if "fields" not in mine or "fields" not in django or mine["fields"] != django["fields"]:
        return False
    return [name for name, _ in mine["files"]] == [name for name, _ in django["files"]]


def is_multipart(content_type):
    return content_type.lstrip().lower().startswith(b"multipart/")


def replace_codecs(data, wanted):
    """The charset parameter and RFC 2231 codec names for which wanted(codec
    name or None) holds, replaced by utf-8."""
    def swap(match):
        name = match.group(2)
        return match.group(1) + (b"utf-8" if wanted(python_codec(name)) else name)
    data = re.sub(rb'(;\s*charset\s*=\s*"?)([^";]*)', swap, data, flags=re.IGNORECASE)
    return re.sub(rb"(\*\s*=\s*\"?)([^'\";\r\n]*)(?=')", swap, data)


def is_other(codec):
    return codec is not None and codec not in OUR_CODECS


def is_unknown(codec):
    return codec is None


def printable_only_verdict(name):
    return sanitizes_to_nothing(name, True) and not sanitizes_to_nothing(name, False)


def replace_unprintable_file_names(body):
    """filename parameters only Django's printable filter empties, as '..'
    (which both skip)."""
    def swap(match):
        names = list(file_names(match.group(0)))
        return b'filename=".."' if names and printable_only_verdict(names[0]) else match.group(0)
    return FILE_NAME.sub(swap, body)


# --- the rules ----------------------------------------------------------------

def other_codec(content_type, body, mine, django):
    return bool(other_codecs(content_type, body))


def other_codec_neutralized(content_type, body):
    return replace_codecs(content_type, is_other), replace_codecs(body, is_other)


def unknown_codec_crash(content_type, body, mine, django):
    return (django.get("crash", "").startswith("LookupError: unknown encoding")
            and unknown_rfc2231_codec(content_type, body))


def unknown_codec_neutralized(content_type, body):
    return replace_codecs(content_type, is_unknown), replace_codecs(body, is_unknown)


def memory_size(content_type, body, mine, django):
    return (django.get("error") == "Request body exceeded settings.DATA_UPLOAD_MAX_MEMORY_SIZE."
            and len(body) > MEMORY_LIMIT and "fields" in mine)


def isprintable_file_name(content_type, body, mine, django):
    return is_multipart(content_type) and any(map(printable_only_verdict, file_names(body)))


def isprintable_neutralized(content_type, body):
    return content_type, replace_unprintable_file_names(body)


def base64_carry_over(content_type, body, mine, django):
    return (is_multipart(content_type) and has_base64_part(body) and "crash" not in django
            and differs_only_in_base64(mine, django))


RULES = [
    Rule("other-codec", "docs/api.md section 9, 'Request bodies Django cannot decode'",
         "A charset or RFC 2231 codec other than UTF-8, ISO-8859-1 and ASCII is taken as "
         "UTF-8; Django decodes with any codec Python has (edxapp only sends UTF-8).",
         other_codec, other_codec_neutralized),
    Rule("unknown-codec-500", "docs/api.md section 9, 'Request bodies Django cannot decode'",
         "An RFC 2231 parameter (in the Content-Type or a part's Content-Disposition) naming "
         "a codec Python lacks is a LookupError (500) in Django; we decode it as UTF-8 and "
         "answer (a Content-Type we cannot read: 400 'Invalid boundary').",
         unknown_codec_crash, unknown_codec_neutralized),
    Rule("data-upload-max-memory-size", "docs/api.md section 9, DATA_UPLOAD_MAX_MEMORY_SIZE",
         "Django refuses more than 2.5 MiB of multipart field data; max_body_bytes bounds a "
         "request here, as course payloads can be larger.",
         memory_size, None),
    Rule("isprintable-file-name", "docs/api.md section 9, known bugs (file names)",
         "BUG to fix: Django skips a file whose name is empty, '.' or '..' once "
         "str.isprintable() rejects are removed; we keep it.",
         isprintable_file_name, isprintable_neutralized),
    Rule("base64-carry-over", "docs/api.md section 9, 'Base64 file parts'",
         "We decode base64 file parts as Django since its CVE fix (4.2.30, 3.2.25-0+deb12u7): "
         "leftovers carried to the next piece, an error at the end; the oracle's 4.2.28 reads "
         "ahead to a multiple of four.",
         base64_carry_over, None),
]
