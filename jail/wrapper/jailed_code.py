# codejail-service: runs course code the way openedx/codejail's safe_exec does.
# This file is written into each sandbox dir as `jailed_code` and run as
# `python -E -B jailed_code` with `[code, globals]` as JSON on stdin.
# LINE NUMBERS ARE PART OF THE API: tracebacks show the exec() line below as
# line 19 (+1 per python_path entry), and edxapp compares them with the
# reference's. jail/wrapper_source.cpp replaces the marker line with one
# sys.path.append() per entry; tests pin the numbering.
import sys
import json
class DevNull(object):
    # print() output is dropped: only the globals go to the real stdout.
    def write(self, *args, **kwargs):
        pass
    def flush(self, *args, **kwargs):
        pass
sys.stdout = DevNull()
code, g_dict = json.load(sys.stdin)

#@CODEJAIL_PYTHON_PATH@
exec(code, g_dict)


def json_safe(d):
    """Return only the JSON-safe part of d (codejail's rules, api.md 3.1)."""
    ok_types = (type(None), int, float, bytes, str, list, tuple, dict)

    def decode_object(obj):
        # bytes are kept when they are valid UTF-8, recursively (keys too).
        if isinstance(obj, bytes):
            return obj.decode('utf-8')
        elif isinstance(obj, (list, tuple)):
            return [decode_object(i) for i in obj]
        elif isinstance(obj, dict):
            return {decode_object(k): decode_object(v) for k, v in obj.items()}
        else:
            return obj

    bad_keys = ("__builtins__",)
    jd = {}
    for k, v in d.items():
        if not isinstance(v, ok_types):
            continue
        if k in bad_keys:
            continue
        try:
            # A value the encoder writes but the decoder cannot read back
            # (or that cannot be encoded at all) drops the whole key.
            v = decode_object(v)
            json.loads(json.dumps(v))
        except Exception:
            continue
        else:
            jd[k] = v
    return json.loads(json.dumps(jd))


g_dict = json_safe(g_dict)
json.dump(g_dict, sys.__stdout__)
