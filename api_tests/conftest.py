"""Black-box API suite: configuration.

API_TEST_SERVICE_BASE (required): the service's base URL, e.g.
http://127.0.0.1:8550. The service must run with CJS_TEST_ENV_LEAKAGE=yes in
its environment (the sandbox must not see it). See README.md for the optional
variables naming extra service instances and limit_overrides contexts.
"""

import os

import pytest
import requests

import apilib


def pytest_configure(config):
    if not os.environ.get("API_TEST_SERVICE_BASE"):
        raise pytest.UsageError(
            "API_TEST_SERVICE_BASE is not set: point it at a running codejail-service, e.g.\n"
            "  API_TEST_SERVICE_BASE=http://127.0.0.1:8550 python3 -m pytest -q api_tests\n"
            "(start the service with CJS_TEST_ENV_LEAKAGE=yes in its environment; "
            "see api_tests/README.md)")


@pytest.fixture(scope="session")
def base_url():
    return apilib.BASE


@pytest.fixture(scope="session", autouse=True)
def service_reachable():
    """Fails every test with one clear message when nothing answers."""
    try:
        resp = requests.get(apilib.HEALTH_URL, timeout=(5, 30))
    except requests.RequestException as e:
        pytest.fail("the service at API_TEST_SERVICE_BASE=%s does not answer: %s" % (apilib.BASE, e),
                    pytrace=False)
    if resp.status_code != 200:
        pytest.fail("the service at %s is not healthy: GET /health/ -> %d %r (its startup "
                    "confinement probes failed; see its log)"
                    % (apilib.BASE, resp.status_code, resp.content[:200]), pytrace=False)


# Samples of trivial requests, reported at the end of the session.
_TRIVIAL_SAMPLES = []
TRIVIAL_SAMPLE_COUNT = 10


@pytest.fixture(scope="session")
def trivial_latency(service_reachable):
    """The p90 wall time of a trivial request (ample context) to this service,
    measured once per session: what "promptly" has to allow for on this host."""
    samples = sorted(apilib.trivial_request_seconds() for _ in range(TRIVIAL_SAMPLE_COUNT))
    _TRIVIAL_SAMPLES.extend(samples)
    return samples[(9 * len(samples) + 9) // 10 - 1]  # nearest-rank p90


@pytest.fixture
def prompt_bound(trivial_latency):
    """prompt_bound(limit_seconds): the longest a request ended by a limit of
    `limit_seconds` may take over HTTP (apilib.prompt_bound_seconds), with the
    trivial-request cost taken as the larger of the session's p90 and one
    trivial request measured at the time of the call (the load may change
    during a session). Call it after the timed request."""
    def bound(limit_seconds):
        now = apilib.trivial_request_seconds()
        _TRIVIAL_SAMPLES.append(now)
        return apilib.prompt_bound_seconds(limit_seconds, max(trivial_latency, now))
    return bound


@pytest.fixture
def at_default_limits():
    """at_default_limits(what, code, check, globals_dict=None, **extra): runs
    `code` under the default limits (no context) and returns the parsed body,
    for code that must work there (issue "Real course code runs as in
    production") but costs real time, such as importing a course package.

    First the same code runs with ample time and the default VMEM and FSIZE
    (apilib.ample_time_context()), and check(body) must pass on that answer:
    a wrong answer (a missing package, ...) fails the test whatever the
    host's speed. When that run took more than apilib.JUDGE_SHARE_OF_REALTIME
    of the default REALTIME, this host is too slow to judge the default
    limits at the moment: the test is skipped, saying what took how long
    (reason starting apilib.TOO_SLOW_TO_JUDGE). Otherwise check(body) must
    pass on the answer under the default limits too. With no ample context
    configured, it runs under the default limits only."""
    def run(what, code, check, globals_dict=None, **extra):
        context = apilib.ample_time_context()
        if context is None:
            print("no ample-time context configured (API_TEST_PRODUCTION_AMPLE_CONTEXT or "
                  "API_TEST_AMPLE_CONTEXT): %s runs under the default limits unmeasured" % what)
        else:
            body, seconds = apilib.timed(apilib.run, code, globals_dict, limit_overrides_context=context, **extra)
            print("%s with ample time (context %r): %.2f s" % (what, context, seconds))
            check(body)
            if seconds > apilib.JUDGE_SHARE_OF_REALTIME * apilib.DEFAULT_REALTIME:
                reason = "%s: %s took %.2f s with ample time (more than %.0f%% of the default REALTIME %g s)" % (
                    apilib.TOO_SLOW_TO_JUDGE, what, seconds, 100 * apilib.JUDGE_SHARE_OF_REALTIME,
                    apilib.DEFAULT_REALTIME)
                print(reason)
                pytest.skip(reason)
        body, seconds = apilib.timed(apilib.run, code, globals_dict,
                                     limit_overrides_context=apilib.DEFAULT_LIMITS, **extra)
        print("%s under the default limits: %.2f s" % (what, seconds))
        check(body)
        return body
    return run


def pytest_terminal_summary(terminalreporter):
    if _TRIVIAL_SAMPLES:
        samples = sorted(_TRIVIAL_SAMPLES)
        terminalreporter.write_line(
            "trivial request latency: %d samples, median %.3f s, max %.3f s (bounds of "
            "'promptly' allow limit + 1 s + 4 x that)" % (len(samples), samples[len(samples) // 2], samples[-1]))
    too_slow = [report for report in terminalreporter.stats.get("skipped", [])
                if apilib.TOO_SLOW_TO_JUDGE in str(getattr(report, "longrepr", ""))]
    terminalreporter.write_line(
        "skipped as too slow to judge the default limits: %d (checked with ample time, not at the defaults)"
        % len(too_slow))


def _optional_base(variable, how):
    value = os.environ.get(variable, "").rstrip("/")
    if not value:
        pytest.skip("%s is not set: needs a second service instance %s "
                    "(api_tests/run_against_built_service starts one)" % (variable, how))
    return value


@pytest.fixture(scope="session")
def disabled_base():
    """A service started with CODEJAIL_ENABLED: false (api.md 2.2 check 1)."""
    return _optional_base("API_TEST_DISABLED_SERVICE_BASE",
                          "started with a configuration file saying CODEJAIL_ENABLED: false")


@pytest.fixture(scope="session")
def unconfigured_base():
    """A service whose startup confinement probes fail (api.md 2.2 check 2)."""
    return _optional_base("API_TEST_UNCONFIGURED_SERVICE_BASE",
                          "whose startup confinement probes fail (e.g. CODEJAIL_SERVICE: "
                          "{require_apparmor: true} on a host without AppArmor)")
