#!/usr/bin/python3
"""The differential check: server/form/ (through cjs_form_parse_json) against
Django 4.2 (django_oracle.py, run on the Django fetch-django-oracle unpacked)
over the fuzz seed corpus and generated bodies. Every disagreement must be
one of the known differences in difference_rules.py; anything else fails,
printed with its body. A missing oracle is a failure, never a skip.

    check_form_parser.py --driver BUILD/test/differential/cjs_form_parse_json
                         [--oracle-dir DIR] [--corpus fuzz/corpus/form_body]
                         [--generated N] [--seed S]
"""

import argparse
import io
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
# pylint: disable=wrong-import-position
import difference_rules  # noqa: E402
import generate_bodies  # noqa: E402
import records  # noqa: E402

ORACLE_PYTHON = "/usr/bin/python3"  # Debian's, as the fetched packages expect


def corpus_bodies(directory):
    """fuzz_form_body's input format: "<Content-Type>\\n<body>"."""
    for name in sorted(os.listdir(directory)):
        with open(os.path.join(directory, name), "rb") as f:
            data = f.read()
        content_type, newline, body = data.partition(b"\n")
        yield f"corpus {name}", content_type, body if newline else b""


def run(command, cases, env=None):
    stream = io.BytesIO()
    for _, content_type, body in cases:
        records.write(stream, content_type, body)
    done = subprocess.run(command, input=stream.getvalue(), capture_output=True, env=env)
    if done.returncode != 0:
        sys.exit(f"FAIL: {command[0]} exited {done.returncode}:\n"
                 f"{done.stderr.decode(errors='replace')}")
    # "\n" only: a raw U+2028 inside a JSON string is no line break.
    lines = done.stdout.decode("utf-8", errors="surrogateescape").split("\n")[:-1]
    if len(lines) != len(cases):
        sys.exit(f"FAIL: {command[0]} answered {len(lines)} of {len(cases)} requests")
    return [json.loads(line) for line in lines], done.stderr.decode(errors="replace")


def oracle_command(oracle_dir):
    manifest_path = os.path.join(oracle_dir, "manifest.json")
    try:
        with open(manifest_path, encoding="utf-8") as f:
            manifest = json.load(f)
    except OSError as exc:
        sys.exit(f"FAIL: no Django oracle in {oracle_dir} ({exc.strerror}); run "
                 f"test/differential/fetch-django-oracle --dest {oracle_dir}")
    env = dict(os.environ, PYTHONPATH=os.path.join(oracle_dir, manifest["pythonpath"]),
               PYTHONDONTWRITEBYTECODE="1", PYTHONHASHSEED="0")
    versions = ", ".join(f"{e['package']} {e['version']}" for e in manifest["packages"])
    return [ORACLE_PYTHON, "-s", os.path.join(HERE, "django_oracle.py")], env, versions


def show(value, limit=1500):
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + f"... ({len(text)} chars)"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--driver", required=True)
    parser.add_argument("--oracle-dir", default="/var/cache/codejail-service-test/django-4.2")
    parser.add_argument("--corpus", default=os.path.join(HERE, "../../fuzz/corpus/form_body"))
    parser.add_argument("--generated", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--show-rule", metavar="ID",
                        help="also print every difference this rule explains")
    args = parser.parse_args()

    command, env, versions = oracle_command(args.oracle_dir)
    cases = list(corpus_bodies(args.corpus))
    corpus_count = len(cases)
    if corpus_count == 0:
        sys.exit(f"FAIL: no corpus in {args.corpus}")
    cases += generate_bodies.generate(args.generated, args.seed)
    started = time.monotonic()
    ours, _ = run([args.driver], cases)
    theirs, oracle_log = run(command, cases, env)
    print(f"oracle: {versions} ({oracle_log.strip()}); {corpus_count} corpus + "
          f"{args.generated} generated bodies (seed {args.seed}), "
          f"{time.monotonic() - started:.1f} s")

    agreed = 0
    by_rule = {rule.id: 0 for rule in difference_rules.RULES}
    failures = []
    for (label, content_type, body), mine, django in zip(cases, ours, theirs):
        if mine == django:
            agreed += 1
            continue
        rule = difference_rules.explain(content_type, body, mine, django)
        if rule:
            by_rule[rule.id] += 1
            if rule.id == args.show_rule:
                print(f"\n{rule.id}: {label}\n  content type: {show(content_type)}\n"
                      f"  body: {show(body)}\n  ours:   {show(mine)}\n  django: {show(django)}")
        else:
            failures.append((label, content_type, body, mine, django))

    print(f"{agreed} agree, {sum(by_rule.values())} differ as documented, "
          f"{len(failures)} differ unexplained")
    for rule in difference_rules.RULES:
        print(f"  rule {rule.id}: {by_rule[rule.id]}")
    for label, content_type, body, mine, django in failures[:20]:
        print(f"\nUNEXPLAINED {label}\n  content type: {show(content_type)}\n"
              f"  body: {show(body)}\n  ours:   {show(mine)}\n  django: {show(django)}")
    if failures:
        print(f"\nFAIL: {len(failures)} unexplained differences"
              + (" (first 20 shown)" if len(failures) > 20 else ""))
        return 1
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
