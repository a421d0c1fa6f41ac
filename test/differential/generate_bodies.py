"""Deterministic request bodies for the differential check: urlencoded and
multipart, built from the things server/form/ has rules for (charsets, RFC
2231 parameters, base64 parts, odd boundaries, percent escapes, '+', invalid
UTF-8, empty names, duplicate keys, file names that sanitize to nothing,
framing slips). generate(count, seed) always yields the same bodies.

Run alone to look at them: generate_bodies.py [COUNT [SEED]].
"""

import base64
import random
import sys

CHARSETS = [None, "utf-8", "UTF8", "utf_8", "latin-1", "ISO-8859-1", "l1", "ascii", "us-ascii",
            "ANSI_X3.4-1968", "cp1252", "utf-16", "koi8-r", "bogus", "", "UTF-8 "]
RFC2231_CODECS = ["utf-8", "UTF-8", "latin-1", "iso-8859-1", "ascii", "cp1252", "bogus", ""]

TEXT_PIECES = ["a", "b", "payload", "x y", "é", "ü€", "日本", "\U0001F600", "+", "%", "%2", "%zz",
               "%41", "%2B", "%C3%A9", "%E9", "%FF", "%ED%A0%80", "%F0%9F%98%80", "&", "=", ";",
               "\t", "\r\n", "\x00", "\x7f", "'", '"', "\\", "\u00ad", "\u200b", "\u2028", " "]
RAW_PIECES = [b"\xff", b"\xc3", b"\xe9", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xc0\xaf",
              b"\xe2\x82", b"\x80"]
FILE_NAMES = ["python_lib.zip", "a.txt", "", ".", "..", "dir/", "a/b.txt", "C:\\x\\y.txt",
              "&#46;", "&#46;&#46;", "&period;", "\x00", "\u00ad", "\u200b", ".\u00ad",
              "\u2028..", " . ", "\x7f", "x\x01y", "é.txt", "%2e%2e", '"q"', "a;b"]
BOUNDARY_CHARS = "abcXYZ0189'()+_,-./:=? "


def text(rng, pieces=6):
    return "".join(rng.choice(TEXT_PIECES) for _ in range(rng.randint(0, pieces)))


def raw_bytes(rng, pieces=6):
    out = b""
    for _ in range(rng.randint(0, pieces)):
        if rng.random() < 0.2:
            out += rng.choice(RAW_PIECES)
        else:
            out += rng.choice(TEXT_PIECES).encode("utf-8")
    return out


def encode_text(rng, value, charset):
    """The value in the body's charset, or (sometimes) in the wrong one."""
    codec = charset if charset and rng.random() < 0.8 else "utf-8"
    try:
        return value.encode(codec.strip(), errors="replace")
    except LookupError:
        return value.encode("utf-8")


def charset_param(rng, charsets=CHARSETS):
    charset = rng.choice(charsets)
    if charset is None:
        return None, ""
    quoted = f'"{charset}"' if rng.random() < 0.2 else charset
    return charset, f"; charset={quoted}"


# urlencoded ----------------------------------------------------------------

def urlencoded(rng):
    charset, param = charset_param(rng)
    media = rng.choice(["application/x-www-form-urlencoded"] * 6 +
                       ["Application/X-WWW-Form-Urlencoded", " application/x-www-form-urlencoded",
                        "application/x-www-form-urlencoded ", "APPLICATION/X-WWW-FORM-URLENCODED"])
    pieces = []
    count = rng.choice([0, 1, 1, 2, 3, 5, 8]) if rng.random() > 0.01 else rng.randint(998, 1002)
    for _ in range(count):
        kind = rng.random()
        if kind < 0.15:
            pieces.append(b"")  # "&&"
            continue
        name = encode_text(rng, text(rng, 3), charset) if kind < 0.95 else raw_bytes(rng, 3)
        if rng.random() < 0.1:
            pieces.append(name)  # no '='
            continue
        value = encode_text(rng, text(rng), charset) if rng.random() < 0.85 else raw_bytes(rng)
        extra = b"=" + encode_text(rng, text(rng, 2), charset) if rng.random() < 0.05 else b""
        pieces.append(name + b"=" + value + extra)
    if rng.random() < 0.2 and pieces:
        pieces.append(pieces[0])  # a duplicate key
    body = b"&".join(pieces)
    if rng.random() < 0.05:
        body = b"payload=" + base64.b64encode(raw_bytes(rng, 20))  # '+', '/', '=' unescaped
    return (media + param).encode("latin-1", errors="replace"), body


# multipart -----------------------------------------------------------------

def boundary(rng):
    roll = rng.random()
    if roll < 0.5:
        return "----WebKitFormBoundary" + "".join(rng.choice("abcdefXYZ0123") for _ in range(16))
    if roll < 0.6:
        return rng.choice(["b", "x", "-", "=", "--", "a b", "a'b"])
    length = rng.choice([1, 2, 10, 70, 199, 200, 201, 202])
    chars = "".join(rng.choice(BOUNDARY_CHARS) for _ in range(length))
    return chars if rng.random() < 0.9 else chars + " "


def quote_param(rng, value):
    """A parameter value as clients spell it: token, quoted, or escaped."""
    roll = rng.random()
    if roll < 0.5 and value and all(ch.isalnum() or ch in "-._" for ch in value):
        return value
    if roll < 0.85:
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return '"' + value + '"'


def rfc2231(rng, name, value):
    """name*=codec'lang'%XX..., sometimes broken."""
    codec = rng.choice(RFC2231_CODECS)
    try:
        encoded = value.encode(codec or "utf-8")
    except (LookupError, UnicodeEncodeError):
        encoded = value.encode("utf-8")
    escaped = "".join(chr(b) if chr(b).isalnum() else f"%{b:02X}" for b in encoded)
    roll = rng.random()
    if roll < 0.8:
        return f"{name}*={codec}'{rng.choice(['', 'en'])}'{escaped}"
    if roll < 0.9:
        return f"{name}*={codec}'{escaped}"  # one quote: not RFC 2231
    return f"{name}*={codec}''{escaped}'x"  # three quotes


def content_type_multipart(rng, bound):
    media = rng.choice(["multipart/form-data"] * 8 + ["Multipart/Form-Data", "multipart/mixed",
                                                       "MULTIPART/FORM-DATA"])
    charset, charset_text = charset_param(rng)
    roll = rng.random()
    if roll < 0.75:
        params = f"; boundary={quote_param(rng, bound)}"
    elif roll < 0.82:
        params = "; " + rfc2231(rng, "boundary", bound)
    elif roll < 0.86:
        params = ""
    elif roll < 0.9:
        params = f"; boundary={bound}; boundary=other"
    elif roll < 0.94:
        params = f';boundary="{bound}";x="a;b"'
    else:
        params = f"; BOUNDARY={bound}"
    parts = [media, params, charset_text] if rng.random() < 0.8 else [media, charset_text, params]
    header = "".join(parts)
    raw = header.encode("utf-8") if rng.random() < 0.97 else header.encode("latin-1", "replace")
    if rng.random() < 0.02:
        raw += "é".encode(rng.choice(["utf-8", "latin-1"]))
    return charset, raw


def disposition(rng, name, file_name, charset):
    params = []
    if name is not None:
        params.append(rfc2231(rng, "name", name) if rng.random() < 0.08
                      else f"name={quote_param(rng, name)}")
    if file_name is not None:
        params.append(rfc2231(rng, "filename", file_name) if rng.random() < 0.15
                      else f"filename={quote_param(rng, file_name)}")
    if rng.random() < 0.5:
        params.reverse()
    head = rng.choice(["form-data", "form-data", "Form-Data", "attachment"])
    line = "Content-Disposition: " + "; ".join([head] + params)
    if rng.random() < 0.05:
        line = line.replace("Content-Disposition", "content-disposition")
    return encode_text(rng, line, charset)


def file_content(rng):
    roll = rng.random()
    if roll < 0.6:
        return raw_bytes(rng, 12)
    if roll < 0.9:
        return bytes(rng.randrange(256) for _ in range(rng.randint(0, 300)))
    return b"\r\n--" + raw_bytes(rng, 4)  # looks like framing


def base64_payload(rng, data):
    encoded = base64.b64encode(data)
    roll = rng.random()
    if roll < 0.4:
        return encoded
    if roll < 0.6:  # MIME line breaks
        return b"\r\n".join(encoded[i:i + 76] for i in range(0, len(encoded), 76))
    if roll < 0.7:
        return encoded[:-rng.randint(1, 3)] if encoded else b"Q"  # truncated
    if roll < 0.8:  # padding or junk in the middle
        return encoded + b"=" + base64.b64encode(raw_bytes(rng, 3))
    if roll < 0.9:
        return b" ".join(encoded[i:i + 3] for i in range(0, len(encoded), 3))
    return encoded + b"!*"


def part(rng, charset, used_names):
    headers = []
    roll = rng.random()
    name = rng.choice(["payload", "python_lib.zip", "f", text(rng, 3), ""] + used_names)
    used_names.append(name)
    is_file = roll < 0.45
    file_name = rng.choice(FILE_NAMES) if is_file else (None if rng.random() < 0.95 else "")
    no_name = rng.random() < 0.04
    headers.append(disposition(rng, None if no_name else name, file_name, charset))
    if rng.random() < 0.25:
        headers.append(b"Content-Type: " + rng.choice([b"application/zip", b"text/plain",
                                                        b"text/plain; charset=latin-1"]))
    use_base64 = rng.random() < 0.2
    if use_base64:
        headers.append(b"Content-Transfer-Encoding: " +
                       rng.choice([b"base64", b"BASE64", b" base64 ", b"Base64"]))
    if rng.random() < 0.05:
        headers.append(rng.choice([b"X-Odd", b"Bad header", b"X-Bin: \xff\xfe", b": empty"]))
    if rng.random() < 0.1:
        rng.shuffle(headers)
    if rng.random() < 0.03:
        headers.append(b"X-Pad: " + b"p" * rng.choice([900, 1020, 1100]))  # header window
    content = file_content(rng) if is_file else encode_text(rng, text(rng), charset)
    if use_base64:
        content = base64_payload(rng, content)
    eol = b"\r\n" if rng.random() < 0.95 else b"\n"
    return eol.join(headers) + eol + eol + content


def multipart(rng):
    bound = boundary(rng)
    charset, content_type = content_type_multipart(rng, bound)
    delimiter = b"--" + bound.encode("latin-1")
    parts = []
    used_names = []
    for _ in range(rng.choice([0, 1, 1, 2, 2, 3, 4, 6])):
        parts.append(part(rng, charset, used_names))
    body = b""
    if rng.random() < 0.1:
        body += b"preamble " + raw_bytes(rng, 3) + b"\r\n"
    for content in parts:
        body += delimiter + b"\r\n" + content + b"\r\n"
    roll = rng.random()
    if roll < 0.8:
        body += delimiter + b"--\r\n"
    elif roll < 0.85:
        body += delimiter + b"--"
    elif roll < 0.9:
        body += delimiter + b"--\r\nepilogue " + raw_bytes(rng, 3)
    # else: no closing delimiter
    if rng.random() < 0.05 and body:
        body = body[:rng.randrange(len(body))]  # truncated
    return content_type, body


def large_multipart(rng, index):
    """Above 64 KiB: Django's chunked reads (a skipped part abandoned after
    1024 bytes, base64 decoded piece by piece); index 0 also has more than
    DATA_UPLOAD_MAX_MEMORY_SIZE of field data."""
    bound = "----LargeBoundary" + str(index)
    delimiter = b"--" + bound.encode()
    parts = []
    if index == 0:
        parts.append(b'Content-Disposition: form-data; name="payload"\r\n\r\n' + b"x" * 2700000)
    zip_bytes = bytes(rng.randrange(256) for _ in range(rng.choice([50000, 70000, 140000])))
    encoded = base64.b64encode(zip_bytes)
    if index % 2:
        encoded = b"\r\n".join(encoded[i:i + 76] for i in range(0, len(encoded), 76))
    parts.append(b'Content-Disposition: form-data; name="python_lib.zip"; '
                 b'filename="python_lib.zip"\r\nContent-Transfer-Encoding: base64\r\n\r\n' + encoded)
    parts.append(b'Content-Disposition: form-data; name="skip"; filename=".."\r\n\r\n' +
                 (b"A" * 70000 + delimiter + b"\r\n" +
                  b'Content-Disposition: form-data; name="hidden"\r\n\r\nin a skipped part'))
    parts.append(b'Content-Disposition: form-data; name="after"\r\n\r\nv')
    body = b"".join(delimiter + b"\r\n" + p + b"\r\n" for p in parts) + delimiter + b"--\r\n"
    return f"multipart/form-data; boundary={bound}".encode(), body


def limit_multipart(index):
    """Around DATA_UPLOAD_MAX_NUMBER_FIELDS (1000, +2 for preamble and
    epilogue) and DATA_UPLOAD_MAX_NUMBER_FILES (100)."""
    fields, files = [(1000, 0), (1003, 0), (0, 100), (0, 101), (998, 100)][index]
    parts = [b'Content-Disposition: form-data; name="f%d"\r\n\r\nv' % n for n in range(fields)]
    parts += [b'Content-Disposition: form-data; name="u%d"; filename="a"\r\n\r\nz' % n
              for n in range(files)]
    body = b"".join(b"--L\r\n" + p + b"\r\n" for p in parts) + b"--L--\r\n"
    return b"multipart/form-data; boundary=L", body


def generate(count, seed=13):
    """(label, content type, body) for `count` bodies, the same every time."""
    rng = random.Random(seed)
    for index in range(count):
        if index < 4:
            content_type, body = large_multipart(rng, index)
        elif index < 9:
            content_type, body = limit_multipart(index - 4)
        elif rng.random() < 0.4:
            content_type, body = urlencoded(rng)
        else:
            content_type, body = multipart(rng)
        yield f"generated #{index} (seed {seed})", content_type, body


if __name__ == "__main__":
    total = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    for label, content_type, body in generate(total, int(sys.argv[2]) if len(sys.argv) > 2 else 13):
        print(label, repr(content_type), repr(body[:300]))
