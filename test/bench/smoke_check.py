#!/usr/bin/python3
"""Smoke check of the benchmark harness (ctest): one short run of
test/bench/run on the trivial workload, then the report's shape.

Usage: smoke_check.py BUILD_DIR

Asserts that the harness exits 0 (every answer right), and that bench.md and
bench.csv carry every table, column and figure with a non-empty value. It
never asserts a timing: this machine's speed is not a test result.
"""

import csv
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))

TABLES = {
    "### Floors and the service, 1 client, interleaved samples (ms)": [
        "bare p50", "bare p90", "codejail-run p50", "codejail-run p90", "worker direct p50",
        "worker direct p99", "service p50", "service / bare", "service / codejail-run"],
    "### Reference interpreter starts (ms)": ["what", "runs", "p50", "p90"],
    "### Service, 1 client (ms)": [
        "p50", "p90", "p99", "req/s", "non-200", "wrong", "p50 / bare p50",
        "p50 / codejail-run p50", "acceptor CPU per request"],
    "### Acceptor overhead per request: worker direct vs the service (ms)": [
        "pairs", "worker direct p50", "service over HTTP p50",
        "overhead: median of (HTTP - worker direct)", "overhead p90"],
    "### Service under concurrent clients": [
        "clients", "requests", "req/s", "p50 ms", "p99 ms", "non-200", "wrong"],
    "### Memory (MiB)": ["acceptor RSS", "service RSS (supervisor+acceptor+workers)", "service PSS",
                         "sandboxes PSS"],
    "### The service's own log, 1 client (medians, ms)": ["duration_ms", "queue_ms", "sandbox_ms"],
    "### Targets": ["target", "measured", "goal", "status"],
}

# (section, workload, clients, metric) figures the CSV must hold as numbers.
FIGURES = [("floor", "trivial", "", "bare_p50"), ("floor", "trivial", "", "codejail-run_p50"),
           ("floor", "trivial", "", "worker_p99"), ("floor", "trivial", "", "http_p50"),
           ("floor", "trivial", "", "http_p50_over_bare_p50"),
           ("service_1_client", "trivial", "1", "p50"), ("service_1_client", "trivial", "1", "p99"),
           ("service_1_client", "trivial", "1", "p50_over_bare"),
           ("service_1_client", "trivial", "1", "acceptor_cpu_per_request"),
           ("acceptor_overhead_paired", "trivial", "1", "overhead_median"),
           ("service_1_client_new_connection", "trivial", "1", "p50"),
           ("service_concurrent", "trivial", "2", "rps"), ("service_concurrent", "trivial", "8", "p99"),
           ("memory", "idle", "", "acceptor_rss"), ("memory", "trivial", "8", "service_pss"),
           ("service_log_1_client", "trivial", "1", "duration_ms_median")]


def fail(message):
    print("smoke_check: FAIL: " + message, flush=True)
    sys.exit(1)


def check_markdown(text):
    for title, columns in TABLES.items():
        if title not in text:
            fail("bench.md lacks the table %r" % title)
        block = text.split(title, 1)[1].split("\n### ", 1)[0]
        rows = [line for line in block.splitlines() if line.startswith("|")]
        if len(rows) < 3:
            fail("table %r has no data rows" % title)
        header = [c.strip() for c in rows[0].strip("|").split("|")]
        for column in columns:
            if column not in header:
                fail("table %r lacks the column %r (has %r)" % (title, column, header))
        for row in rows[2:]:
            cells = [c.strip() for c in row.strip("|").split("|")]
            if len(cells) != len(header) or any(c in ("", "-") for c in cells):
                fail("table %r has an incomplete row: %s" % (title, row))
    for target in ("trivial p50 / bare floor p50 (interleaved)", "trivial req/s at 8 clients",
                   "acceptor overhead per request", "acceptor RSS, idle"):
        if target not in text:
            fail("the targets table lacks %r" % target)
    if "WRONG OR MISSING ANSWERS" in text:
        fail("the report says answers were wrong")


def check_csv(path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        fail("bench.csv is empty")
    if list(rows[0].keys()) != ["section", "workload", "clients", "metric", "value", "unit"]:
        fail("bench.csv has unexpected columns %r" % list(rows[0].keys()))
    for section, workload, clients, metric in FIGURES:
        match = [r for r in rows if r["section"] == section and r["clients"] == clients
                 and r["metric"] == metric and r["workload"] == workload]
        if len(match) != 1 or match[0]["value"] in ("", "-"):
            fail("bench.csv lacks a value for %s/%s/%s/%s: %r" % (section, workload, clients, metric,
                                                               match))
        float(match[0]["value"])  # a number, not a placeholder
    for r in rows:
        if r["section"] == "target" and r["unit"] not in ("met", "missed", "inconclusive"):
            fail("target row without met/missed/inconclusive: %r" % r)
    requests = [r for r in rows if r["metric"] == "requests"]
    if not requests or any(int(r["value"]) <= 0 for r in requests):
        fail("a load phase made no requests: %r" % requests)
    wrong = [r for r in rows if r["metric"] in ("non_200", "wrong") and r["value"] != "0"]
    if wrong:
        fail("bench.csv counts wrong answers: %r" % wrong)


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    build_dir = os.path.abspath(sys.argv[1])
    out = tempfile.mkdtemp(prefix="cjs-bench-smoke-")
    try:
        # --clients 2,8: the 8-client phase feeds the throughput target's row.
        cmd = [os.path.join(HERE, "run"), "--no-build", "--build-dir", build_dir, "--quick",
               "--seconds", "2", "--runs", "3", "--workloads", "trivial", "--clients", "2,8",
               "--out", out]
        result = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        output = result.stdout.decode("utf-8", "replace")
        if result.returncode != 0:
            print(output)
            fail("the harness exited with %d" % result.returncode)
        with open(os.path.join(out, "bench.md")) as f:
            text = f.read()
        if text.strip() not in output:
            fail("the harness did not print the report it wrote")
        check_markdown(text)
        check_csv(os.path.join(out, "bench.csv"))
        print("smoke_check: the harness ran and its report is complete")
        return 0
    finally:
        shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
