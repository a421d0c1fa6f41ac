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
from collections import namedtuple

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
# pylint: disable=wrong-import-position
import difference_rules  # noqa: E402
import generate_bodies  # noqa: E402
import records  # noqa: E402

ORACLE_PYTHON = "/usr/bin/python3"  # Debian's, as the fetched packages expect


State = namedtuple("State", "content_type body mine django")


class Case:
    """One disagreement, and the rules that explain it so far: each
    neutralizing rule replaces the request and both results."""

    def __init__(self, label, content_type, body, mine, django):
        self.label, self.content_type, self.body = label, content_type, body
        self.mine, self.django = mine, django
        self.now = State(content_type, body, mine, django)
        self.rules = []
        self.done = False

    def explain(self, rule):
        self.rules.append(rule)
        self.done = True

    def neutralized(self, rule, state):
        self.rules.append(rule)
        self.now = state
        self.done = state.mine == state.django


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

    agreed = sum(1 for mine, django in zip(ours, theirs) if mine == django)
    pending = [Case(label, content_type, body, mine, django)
               for (label, content_type, body), mine, django in zip(cases, ours, theirs)
               if mine != django]
    by_rule = {rule.id: 0 for rule in difference_rules.RULES}
    explained = 0
    for rule in difference_rules.RULES:
        rerun = []
        for case in pending:
            now = case.now
            if not rule.predicate(now.content_type, now.body, now.mine, now.django):
                continue
            if rule.neutralize is None:
                case.explain(rule)
                continue
            content_type, body = rule.neutralize(now.content_type, now.body)
            if (content_type, body) != (now.content_type, now.body):
                rerun.append((case, content_type, body))
        if rerun:
            requests = [(c.label, ct, b) for c, ct, b in rerun]
            mine_again, _ = run([args.driver], requests)
            django_again, _ = run(command, requests, env)
            for (case, content_type, body), mine, django in zip(rerun, mine_again, django_again):
                case.neutralized(rule, State(content_type, body, mine, django))
        for case in pending:
            if case.rules and case.rules[-1] is rule and case.done:
                for each in case.rules:
                    by_rule[each.id] += 1
                explained += 1
                if args.show_rule in (r.id for r in case.rules):
                    print(f"\n{'+'.join(r.id for r in case.rules)}: {case.label}\n"
                          f"  content type: {show(case.content_type)}\n  body: {show(case.body)}\n"
                          f"  ours:   {show(case.mine)}\n  django: {show(case.django)}")
        pending = [case for case in pending if not case.done]
    failures = [(c.label, c.content_type, c.body, c.mine, c.django) for c in pending]

    print(f"{agreed} agree, {explained} differ as documented, "
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
