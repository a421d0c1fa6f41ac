#!/usr/bin/env python3
"""Median wall time of a trivial execution, next to the bare interpreter floor.

Usage: test/bench/startup_floor.py [--runs N] NAME=COMMAND... 

Each COMMAND is run N times (default 20) with the trivial payload
{"code": "x = x + 1", "globals_dict": {"x": 16}} on stdin; the floor is
`/usr/bin/python3 -E -B -c pass`, measured the same way in the same run.
Prints a Markdown table with medians and ratios to the floor.
"""
import shlex
import statistics
import subprocess
import sys
import time

PAYLOAD = b'{"code": "x = x + 1", "globals_dict": {"x": 16}}'


def median_seconds(argv, runs):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        result = subprocess.run(argv, input=PAYLOAD, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
        if result.returncode != 0:
            sys.exit(f"{argv[0]} failed with {result.returncode}: {result.stdout[:200]!r}")
    return statistics.median(times)


def main():
    args = sys.argv[1:]
    runs = 20
    if args[:1] == ["--runs"]:
        runs = int(args[1])
        args = args[2:]
    commands = [("bare /usr/bin/python3 -E -B -c pass", ["/usr/bin/python3", "-E", "-B", "-c", "pass"])]
    for spec in args:
        name, _, command = spec.partition("=")
        commands.append((name, shlex.split(command)))
    results = [(name, median_seconds(argv, runs)) for name, argv in commands]
    floor = results[0][1]
    print(f"| what (median of {runs}) | wall ms | ratio to bare interpreter |")
    print("|---|---:|---:|")
    for name, seconds in results:
        print(f"| {name} | {seconds * 1000:.1f} | {seconds / floor:.2f}x |")


if __name__ == "__main__":
    main()
