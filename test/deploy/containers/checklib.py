"""Shared pieces of check_docker and check_k8s: a result list with the
closing 'N passed, N failed' line, YAML helpers, and the self-check driver
that proves each rule can fail (it feeds the checks mutated copies of the
real files and requires the named rule to report a problem)."""
import os
import shutil
import subprocess
import sys
import tempfile

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".."))


class Report:
    def __init__(self):
        self.passed = 0
        self.failed = 0
        self.skipped = 0
        self.failures = {}  # rule id -> [problems]

    def rule(self, rule_id, title, problems, quiet=False):
        problems = [p for p in problems if p]
        if problems:
            self.failed += 1
            self.failures.setdefault(rule_id, []).extend(problems)
        else:
            self.passed += 1
        if not quiet:
            print(("FAIL " if problems else "PASS ") + f"{rule_id} {title}")
            for p in problems:
                print(f"    {p}")

    def skip(self, rule_id, title, why, quiet=False):
        self.skipped += 1
        if not quiet:
            print(f"SKIP {rule_id} {title}: {why}")

    def close(self):
        print(f"{self.passed} passed, {self.failed} failed, {self.skipped} skipped")
        return 0 if self.failed == 0 and self.passed > 0 else 1


def copy_repo_subset(paths):
    """A scratch copy of the repository files the checks read."""
    root = tempfile.mkdtemp(prefix="cjs-deploy-check-")
    for rel in paths:
        src = os.path.join(REPO, rel)
        dst = os.path.join(root, rel)
        if os.path.isdir(src):
            shutil.copytree(src, dst)
        elif os.path.exists(src):
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            shutil.copy2(src, dst)
    return root


def self_check(run_checks, paths, mutations):
    """run_checks(root, report, quiet) runs every rule on the tree at root.
    mutations: (rule_id, relpath, function(text) -> text, description).
    The real tree must pass; each mutation must make its rule fail."""
    report = Report()
    clean = Report()
    run_checks(REPO, clean, True)
    report.rule("self", "the real files pass every rule", [
        f"{rule}: {p}" for rule, ps in clean.failures.items() for p in ps])
    for rule_id, rel, mutate, description in mutations:
        root = copy_repo_subset(paths)
        try:
            path = os.path.join(root, rel)
            with open(path, encoding="utf-8") as f:
                text = f.read()
            changed = mutate(text)
            if changed == text:
                report.rule(rule_id, f"catches: {description}", ["the mutation changed nothing"])
                continue
            with open(path, "w", encoding="utf-8") as f:
                f.write(changed)
            mutated = Report()
            run_checks(root, mutated, True)
            report.rule(rule_id, f"catches: {description}",
                        [] if rule_id in mutated.failures else
                        [f"rule {rule_id} did not fail (failed: {sorted(mutated.failures)})"])
        finally:
            shutil.rmtree(root)
    return report.close()


_APT_CACHE = {}


def apt_packages_exist(names):
    """The subset of names that Debian's package lists offer (one
    `apt-cache policy` call for all of them: each call takes a second)."""
    missing = [n for n in names if n not in _APT_CACHE]
    if missing:
        proc = subprocess.run(["apt-cache", "policy", *missing], capture_output=True, text=True)
        current = None
        for line in proc.stdout.splitlines():
            if line and not line.startswith(" ") and line.endswith(":"):
                current = line[:-1]
            elif current and line.strip().startswith("Candidate:"):
                _APT_CACHE[current] = line.split(":", 1)[1].strip() != "(none)"
        for n in missing:
            _APT_CACHE.setdefault(n, False)
    return {n for n in names if _APT_CACHE[n]}


def take_options(module, options):
    """Rendered documents instead of the repository's: each `--option VALUE`
    in sys.argv sets module.<attr> for options[option] = (attr, is_path);
    paths are made absolute (the checks join them to the root, and an
    absolute path wins). The Tutor plugin's test feeds the checks the
    plugin's output this way; every rule still runs, against that output.
    Not with --self-check, whose mutations are of the repository's files."""
    args = sys.argv[1:]
    while args and args[0] in options:
        if len(args) < 2:
            sys.exit(f"{args[0]} needs a value")
        attr, is_path = options[args[0]]
        setattr(module, attr, os.path.abspath(args[1]) if is_path else args[1])
        args = args[2:]
    given = len(args) != len(sys.argv) - 1
    if args not in ([], ["--self-check"]) or (args and given):
        sys.exit(f"usage: {os.path.basename(sys.argv[0])} --self-check | "
                 + " ".join(f"[{o} VALUE]" for o in options))
    sys.argv[1:] = args


def main_dispatch(run, self_check_fn):
    if len(sys.argv) > 1 and sys.argv[1] == "--self-check":
        sys.exit(self_check_fn())
    report = Report()
    run(REPO, report, False)
    sys.exit(report.close())
