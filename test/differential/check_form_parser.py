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
    # -s: no user site-packages; PYTHONPATH puts the fetched Django first.
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
    if f"from {os.path.realpath(args.oracle_dir)}/" not in oracle_log:
        sys.exit(f"FAIL: the oracle did not run the Django in {args.oracle_dir}: {oracle_log}")
    print(f"oracle: {versions} ({oracle_log.strip()}); {corpus_count} corpus + "
          f"{args.generated} generated bodies (seed {args.seed}), "
          f"{time.monotonic() - started:.1f} s")

    agreed = sum(1 for mine, django in zip(ours, theirs) if mine == django)
    pending = [Case(label, content_type, body, mine, django)
               for (label, content_type, body), mine, django in zip(cases, ours, theirs)
               if mine != django]

    def both(requests):
        if not requests:
            return []
        return zip(run([args.driver], requests)[0], run(command, requests, env)[0])

    explained, failures = apply_rules(pending, both)
    return report(agreed, explained, failures, args.show_rule)


def apply_rules(pending, both):
    """Each rule in order over the disagreements it recognises: explained at
    once, or neutralized and rerun with both(requests). Returns the explained
    cases and the rest."""
    explained = []
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
        requests = [(case.label, content_type, body) for case, content_type, body in rerun]
        for (case, content_type, body), (mine, django) in zip(rerun, both(requests)):
            case.neutralized(rule, State(content_type, body, mine, django))
        explained += [case for case in pending if case.done]
        pending = [case for case in pending if not case.done]
    return explained, pending


def show_case(title, case):
    text = (f"\n{title}: {case.label}\n  content type: {show(case.content_type)}\n"
            f"  body: {show(case.body)}\n  ours:   {show(case.mine)}\n  django: {show(case.django)}")
    if case.rules:  # partly explained: what still differs once neutralized
        now = case.now
        text += (f"\n  after {'+'.join(r.id for r in case.rules)}: content type "
                 f"{show(now.content_type)}\n  body: {show(now.body)}\n"
                 f"  ours:   {show(now.mine)}\n  django: {show(now.django)}")
    print(text)


def report(agreed, explained, failures, show_rule):
    by_rule = {rule.id: 0 for rule in difference_rules.RULES}
    for case in explained:
        for rule in case.rules:
            by_rule[rule.id] += 1
        if show_rule in (rule.id for rule in case.rules):
            show_case("+".join(rule.id for rule in case.rules), case)
    print(f"{agreed} agree, {len(explained)} differ as documented, "
          f"{len(failures)} differ unexplained")
    for rule in difference_rules.RULES:
        print(f"  rule {rule.id}: {by_rule[rule.id]}")
    for case in failures[:20]:
        show_case("UNEXPLAINED", case)
    if failures:
        print(f"\nFAIL: {len(failures)} unexplained differences"
              + (" (first 20 shown)" if len(failures) > 20 else ""))
        return 1
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
