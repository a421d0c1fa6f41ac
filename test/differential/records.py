"""The record stream both parsers read: for each request, the line
"<Content-Type length> <body length>\\n", then the Content-Type bytes, then
the body bytes (form_parse_json.cpp reads the same)."""


def write(stream, content_type, body):
    stream.write(b"%d %d\n" % (len(content_type), len(body)))
    stream.write(content_type)
    stream.write(body)


def read(stream):
    while True:
        line = stream.readline()
        if not line:
            return
        type_length, body_length = (int(n) for n in line.split())
        content_type = stream.read(type_length)
        body = stream.read(body_length)
        if len(content_type) != type_length or len(body) != body_length:
            raise ValueError("truncated record stream")
        yield content_type, body
