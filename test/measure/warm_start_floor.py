"""What a warm start could save, and what stands in its way (issue 15).

Not a test: a measurement, run on a quiet host with the sandbox's python_bin,

    /opt/codejail-service/sandbox-venv/bin/python test/measure/warm_start_floor.py [runs]

It prints, interleaved in one run (so that the host's state is the same for
all): a cold interpreter start (`python -E -B -c ...`) for a trivial and an
`import numpy` body, against a fork of an interpreter that has already
imported json, random and numpy running the same body; and whether the forks
share CPython's hash secret (they do: it is fixed at start-up, and every str
caches its hash, so a fork cannot be given a new one).
"""
import os
import statistics
import subprocess
import sys
import time

BODIES = {"trivial": "x = 1 + 1", "import numpy": "import numpy\nx = int(numpy.arange(5).sum())"}


def cold(body):
    t = time.perf_counter()
    subprocess.run([sys.executable, "-E", "-B", "-c", body], check=True)
    return time.perf_counter() - t


def forked(body):
    code = compile(body, "jailed_code", "exec")
    t = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        try:
            exec(code, {"__name__": "__main__"})
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    return time.perf_counter() - t


def hash_in_fork():
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.write(w, str(hash("codejail")).encode())
        os._exit(0)
    os.close(w)
    out = os.read(r, 64).decode()
    os.close(r)
    os.waitpid(pid, 0)
    return out


def main():
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 40
    import json, random, numpy  # noqa: F401  the preload of a zygote
    samples = {(kind, name): [] for kind in ("cold", "fork") for name in BODIES}
    for _ in range(runs):
        for name, body in BODIES.items():
            samples[("cold", name)].append(cold(body))
            samples[("fork", name)].append(forked(body))
    print("python %s, %d runs each, p50 ms (p90 ms)" % (sys.version.split()[0], runs))
    for name in BODIES:
        c = sorted(samples[("cold", name)])
        f = sorted(samples[("fork", name)])
        p = lambda v, q: v[min(len(v) - 1, int(q * len(v)))] * 1000
        print("  %-13s cold %7.2f (%7.2f)   fork of a preloaded interpreter %6.2f (%6.2f)   x%.3f"
              % (name, p(c, 0.5), p(c, 0.9), p(f, 0.5), p(f, 0.9),
                 statistics.median(f) / statistics.median(c)))
    hashes = {hash_in_fork() for _ in range(5)}
    print("  hash('codejail') in 5 forks: %d distinct value(s); in 5 cold starts: %d"
          % (len(hashes), len({subprocess.run([sys.executable, "-E", "-B", "-c",
                                                "print(hash('codejail'))"],
                                               capture_output=True, text=True).stdout
                               for _ in range(5)})))


if __name__ == "__main__":
    main()
