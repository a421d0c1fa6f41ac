#!/usr/bin/python3
"""codejail-run driven as an operator drives it (stdlib unittest only).

Usage: test_codejail_run.py /path/to/codejail-run [unittest options]
"""
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest
import zipfile

BINARY = None  # set from argv before unittest.main

EXAMPLE = '{"code": "x = x + 1", "globals_dict": {"x": 16}}'
EXAMPLE_BODY = b'{"globals_dict":{"x":17}}'
TIMEOUT = 120

# Sandbox uids of this suite's own (uid = base + slot 0): the integration
# tests ctest runs alongside use 61000 + 1..99, the attack tests 61000 + 100
# and up, the service suites 62000-62511, the API suite 63000-63767.
OWN_UID_BASE = 64000

# The configuration of every run that is not about configuration: ample time
# limits (far above what these runs need even on a machine ten times slower
# than a 2-core VM where Python starts in 40 ms, so that a loaded host cannot
# turn an answer into a REALTIME kill) and this suite's sandbox uids.
AMPLE_CONFIG = """CODEJAIL_ENABLED: true
CODE_JAIL:
  limits: {CPU: 10, REALTIME: 20}
CODEJAIL_SERVICE: {sandbox_uid_base: %d}
""" % OWN_UID_BASE


def make_zip(members):
    """Bytes of a python_lib.zip holding `members` ({name: source})."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, source in members.items():
            archive.writestr(name, source)
    return buffer.getvalue()


PAYLOAD_WITH_UID = b'{"code": "import os\\nx = x + 1\\nu = os.getuid()", "globals_dict": {"x": 16}}'


def userns_refused(as_user, env):
    """Why this host refuses what the unprivileged mode needs, or None: a
    child, run as the unprivileged user, makes a user namespace with itself
    mapped to root and, inside it, the mount, pid, network and ipc namespaces
    and a mount. Refused e.g. by user.max_user_namespaces=0, Debian's
    kernel.unprivileged_userns_clone=0, or Ubuntu's
    kernel.apparmor_restrict_unprivileged_userns=1 (no capabilities in the
    namespace for programs without an AppArmor profile allowing it)."""
    probe = as_user + ["unshare", "--user", "--map-root-user", "--mount", "--pid", "--net",
                       "--ipc", "--fork", "--", "mount", "-t", "tmpfs", "cjs-userns-probe", "/tmp"]
    proc = subprocess.run(probe, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
                          timeout=TIMEOUT)
    if proc.returncode == 0:
        return None
    settings = []
    for path in ("/proc/sys/user/max_user_namespaces", "/proc/sys/kernel/unprivileged_userns_clone",
                 "/proc/sys/kernel/apparmor_restrict_unprivileged_userns"):
        try:
            with open(path) as f:
                settings.append("%s=%s" % (path[len("/proc/sys/"):].replace("/", "."), f.read().strip()))
        except OSError:
            pass
    return ("this host refuses unprivileged user namespaces to the codejail user: `%s` exited "
            "with status %d: %s (%s)" % (" ".join(probe), proc.returncode,
                                         proc.stdout.decode(errors="replace").strip(),
                                         ", ".join(settings) or "no userns sysctls"))


class CodejailRunTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="cjs-cli-test-")
        # The caller's configuration stays out of the tests: runs without
        # --config get AMPLE_CONFIG through the variable codejail-run reads.
        self.bare_env = {k: v for k, v in os.environ.items() if k != "CODEJAIL_SERVICE_CFG"}
        self.env = dict(self.bare_env, CODEJAIL_SERVICE_CFG=self.write("ample.yaml", AMPLE_CONFIG))

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def write(self, name, data):
        path = os.path.join(self.tmp, name)
        with open(path, "wb") as f:
            f.write(data.encode() if isinstance(data, str) else data)
        return path

    def run_cli(self, *args, stdin=b"", env=None):
        """(exit status, stdout bytes, stderr text); stdout is a pipe."""
        if isinstance(stdin, str):
            stdin = stdin.encode()
        proc = subprocess.run(
            [BINARY, *args],
            input=stdin,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=self.env if env is None else env,
            timeout=TIMEOUT,
        )
        return proc.returncode, proc.stdout, proc.stderr.decode("utf-8", "replace")

    # --- the happy path -------------------------------------------------

    def test_issue_example_from_stdin(self):
        status, out, err = self.run_cli(stdin=EXAMPLE)
        self.assertEqual(out, EXAMPLE_BODY, err)  # exactly: no trailing newline on a pipe
        self.assertEqual(status, 0, err)

    def test_dash_means_stdin(self):
        status, out, err = self.run_cli("-", stdin=EXAMPLE)
        self.assertEqual((status, out), (0, EXAMPLE_BODY), err)

    def test_payload_from_a_file(self):
        path = self.write("payload.json", EXAMPLE)
        status, out, err = self.run_cli(path, stdin=b"this is not read")
        self.assertEqual((status, out), (0, EXAMPLE_BODY), err)

    def test_error_inside_the_sandbox_is_still_200(self):
        payload = json.dumps({"code": "1/0", "globals_dict": {"a": 1}})
        status, out, err = self.run_cli(stdin=payload)
        self.assertEqual(status, 0, err)
        body = json.loads(out)
        self.assertEqual(list(body), ["globals_dict", "emsg"])
        self.assertEqual(body["globals_dict"], {"a": 1})
        self.assertTrue(body["emsg"].startswith("Couldn't execute jailed code: stdout: b'', stderr: b'Traceback"))
        self.assertTrue(body["emsg"].endswith("ZeroDivisionError: division by zero\\n' with status code: 1"))

    # --- uploads ----------------------------------------------------------

    def zip_payload(self):
        return json.dumps({
            "code": "import mymod\nv = mymod.VALUE + 1",
            "globals_dict": {},
            "python_path": ["python_lib.zip"],
        })

    def test_file_name_equals_path(self):
        zip_path = self.write("some-other-name.zip", make_zip({"mymod.py": "VALUE = 41\n"}))
        status, out, err = self.run_cli("--file", "python_lib.zip=" + zip_path,
                                        stdin=self.zip_payload())
        self.assertEqual((status, out), (0, b'{"globals_dict":{"v":42}}'), err)

    def test_file_path_uses_its_basename(self):
        subdir = os.path.join(self.tmp, "course")
        os.mkdir(subdir)
        zip_path = os.path.join(subdir, "python_lib.zip")
        with open(zip_path, "wb") as f:
            f.write(make_zip({"mymod.py": "VALUE = 1\n"}))
        payload_path = self.write("payload.json", self.zip_payload())
        status, out, err = self.run_cli("--file", zip_path, payload_path)
        self.assertEqual((status, out), (0, b'{"globals_dict":{"v":2}}'), err)

    def test_python_path_without_upload(self):
        status, out, err = self.run_cli(stdin=self.zip_payload())
        self.assertEqual(status, 0, err)
        self.assertEqual(out, b'{"globals_dict":{},"emsg":"Couldn\'t execute sandboxed code: See logs."}')

    def test_upload_with_another_name_is_refused(self):
        zip_path = self.write("lib.zip", make_zip({"mymod.py": "VALUE = 1\n"}))
        status, out, err = self.run_cli("--file", zip_path, stdin=self.zip_payload())
        self.assertEqual(out, b'{"error":"Only allowed name for uploaded file is \'python_lib.zip\'"}')
        self.assertEqual(status, 1, err)
        self.assertIn("400", err)

    def test_unreadable_upload_is_a_usage_error(self):
        status, out, err = self.run_cli("--file", os.path.join(self.tmp, "missing.zip"),
                                        stdin=EXAMPLE)
        self.assertEqual(status, 2, err)
        self.assertEqual(out, b"")

    # --- refusals -----------------------------------------------------------

    def test_bad_payload_json(self):
        status, out, err = self.run_cli(stdin=b"not json")
        self.assertEqual(
            out, b'{"error":"Unable to parse payload JSON: Expecting value: line 1 column 1 (char 0)"}')
        self.assertEqual(status, 1, err)
        self.assertIn("HTTP 400", err)

    def test_empty_payload(self):
        status, out, err = self.run_cli(stdin=b"")
        self.assertEqual(
            out, b'{"error":"Unable to parse payload JSON: Expecting value: line 1 column 1 (char 0)"}')
        self.assertEqual(status, 1, err)

    def test_schema_mismatch(self):
        status, out, err = self.run_cli(stdin=b'{"code": "x"}')
        self.assertEqual(
            out, b'{"error":"Payload JSON did not match schema at path $: \'globals_dict\' is a required property"}')
        self.assertEqual(status, 1, err)

    def test_unsafely_is_refused(self):
        payload = json.dumps({"code": "x = 1", "globals_dict": {}, "unsafely": True})
        status, out, err = self.run_cli(stdin=payload)
        self.assertEqual(out, b'{"error":"Refusing codejail execution with unsafely=true"}')
        self.assertEqual(status, 1, err)

    # --- configuration ------------------------------------------------------

    def test_disabled_by_config(self):
        config = self.write("disabled.yaml", "CODEJAIL_ENABLED: false\n")
        status, out, err = self.run_cli("--config", config, stdin=EXAMPLE)
        self.assertEqual(out, b'{"error":"Codejail service not enabled"}')
        self.assertEqual(status, 1, err)
        self.assertIn("HTTP 500", err)

    def test_config_from_environment(self):
        config = self.write("disabled.yaml", "CODEJAIL_ENABLED: false\n")
        env = dict(self.bare_env, CODEJAIL_SERVICE_CFG=config)
        status, out, err = self.run_cli(stdin=EXAMPLE, env=env)
        self.assertEqual((status, out), (1, b'{"error":"Codejail service not enabled"}'), err)

    def test_invalid_limit_names_the_key(self):
        config = self.write("bad.yaml",
                            "CODEJAIL_ENABLED: true\nCODE_JAIL:\n  limits:\n    CPU: lots\n")
        status, out, err = self.run_cli("--config", config, stdin=EXAMPLE)
        self.assertEqual(status, 2, err)
        self.assertEqual(out, b"")
        self.assertIn("CODE_JAIL.limits.CPU", err)

    def test_missing_config_file(self):
        status, out, err = self.run_cli("--config", os.path.join(self.tmp, "nope.yaml"),
                                        stdin=EXAMPLE)
        self.assertEqual(status, 2, err)
        self.assertEqual(out, b"")
        self.assertIn("nope.yaml", err)

    def test_limits_from_config_apply(self):
        config = self.write("slow.yaml",
                            "CODEJAIL_ENABLED: true\nCODE_JAIL:\n  limits:\n    REALTIME: 0.5\n"
                            "CODEJAIL_SERVICE: {sandbox_uid_base: %d}\n" % OWN_UID_BASE)
        payload = json.dumps({"code": "import time\ntime.sleep(5)", "globals_dict": {}})
        status, out, err = self.run_cli("--config", config, stdin=payload)
        self.assertEqual(status, 0, err)
        self.assertEqual(
            out,
            b'{"globals_dict":{},"emsg":"Couldn\'t execute jailed code: stdout: b\'\', stderr: b\'\' with status code: -9"}')

    def test_print_default_config_roundtrip(self):
        status, out, err = self.run_cli("--print-default-config", env=self.bare_env)
        self.assertEqual(status, 0, err)
        self.assertIn(b"CODEJAIL_ENABLED: true", out)
        self.assertIn(b"CODE_JAIL:", out)
        # The printed text as it is loads cleanly (no warnings) and enables
        # execution: the request is refused only for its payload, which is
        # checked after the configuration.
        config = self.write("default.yaml", out)
        status, body, err = self.run_cli("--config", config, stdin=b'{"code": "x"}')
        self.assertEqual(body, b'{"error":"Payload JSON did not match schema at path $: '
                               b'\'globals_dict\' is a required property"}', err)
        self.assertEqual(status, 1, err)
        self.assertNotIn('"level":"warning"', err)
        # And it executes: the same text with only the time limits made ample
        # and this suite's sandbox uids (the default's time limits are for
        # production hosts, not for a slow or loaded test machine).
        text = out.decode()
        for key, ample in (("CPU", "10"), ("REALTIME", "20"),
                           ("sandbox_uid_base", str(OWN_UID_BASE))):
            pattern = r"(?m)^(\s+%s: )[0-9.]+(?=\s)" % key
            self.assertEqual(len(re.findall(pattern, text)), 1, "one '%s: N' line" % key)
            text = re.sub(pattern, r"\g<1>" + ample, text)
        config = self.write("default-ample.yaml", text)
        status, body, err = self.run_cli("--config", config, stdin=EXAMPLE)
        self.assertEqual((status, body), (0, EXAMPLE_BODY), err)
        self.assertNotIn('"level":"warning"', err)

    # --- usage ----------------------------------------------------------------

    def test_help(self):
        status, out, err = self.run_cli("--help")
        self.assertEqual(status, 0, err)
        self.assertTrue(out.startswith(b"Usage: codejail-run"), out)
        status_short, out_short, _ = self.run_cli("-h")
        self.assertEqual((status_short, out_short), (0, out))

    def test_unknown_option(self):
        status, out, err = self.run_cli("--no-such-option", stdin=EXAMPLE)
        self.assertEqual(status, 2)
        self.assertEqual(out, b"")
        self.assertIn("--no-such-option", err)

    # --- confinement, as operators check it --------------------------------

    def test_self_test_reports_layers_and_probes(self):
        status, out, _ = self.run_cli("--self-test")
        text = out.decode()
        self.assertEqual(status, 0, text)
        for layer in ("namespaces", "mount view", "uid", "capabilities", "rlimits", "landlock",
                      "seccomp", "cgroups", "apparmor"):
            self.assertRegex(text, r"\n  %s +(active|INACTIVE) " % layer)
        for probe in ("functionality", "disk", "exec", "network", "egress"):
            self.assertRegex(text, r"\n  %s +passed" % probe)
        # The embedded default has warm start on: the probes take that path.
        self.assertIn("applied to the functionality probe's run (warm start: a prestarted sandbox):",
                      text)
        self.assertIn("result: PASS", text)

    def test_unprivileged_service_runs_in_a_user_namespace(self):
        # The documented unprivileged mode: the same binary, started as the
        # unprivileged `codejail` user (deploy/setup-host creates it).
        import pwd
        try:
            account = pwd.getpwnam("codejail")
        except KeyError:
            self.fail("the codejail user is missing: run deploy/setup-host")
        as_codejail = ["setpriv", "--reuid=codejail", "--regid=codejail", "--clear-groups"]
        # The mode needs the host to grant unprivileged user namespaces
        # (with capabilities inside them); some hosts refuse them by policy.
        refused = userns_refused(as_codejail, self.env)
        if refused:
            self.skipTest(refused)
        root = os.path.join(self.tmp, "sandboxes")
        os.mkdir(root)
        os.chown(root, account.pw_uid, account.pw_gid)
        os.chmod(self.tmp, 0o755)
        config = self.write("config.yaml",
                            "CODEJAIL_ENABLED: true\nCODE_JAIL:\n  limits: {CPU: 10, REALTIME: 20}\n"
                            "CODEJAIL_SERVICE:\n  sandbox_root: %s\n  sandbox_uid_base: %d\n"
                            % (root, OWN_UID_BASE))
        os.chmod(config, 0o644)
        as_codejail += [BINARY, "--config", config]
        proc = subprocess.run(as_codejail + ["-"], input=PAYLOAD_WITH_UID, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, env=self.env, timeout=TIMEOUT)
        self.assertEqual(proc.stdout.decode(),
                         '{"globals_dict":{"x":17,"u":%d}}' % account.pw_uid, proc.stderr)
        proc = subprocess.run(as_codejail + ["--self-test"], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, env=self.env, timeout=TIMEOUT)
        text = proc.stdout.decode()
        self.assertEqual(proc.returncode, 0, text)
        self.assertRegex(text, r"namespaces +active +user, pid")
        self.assertRegex(text, r"uid +active +service uid %d inside a user namespace"
                         % account.pw_uid)

    def test_two_payload_files(self):
        path = self.write("payload.json", EXAMPLE)
        status, out, err = self.run_cli(path, path)
        self.assertEqual(status, 2)
        self.assertEqual(out, b"")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: test_codejail_run.py /path/to/codejail-run [unittest options]")
    BINARY = os.path.abspath(sys.argv.pop(1))
    if not os.access(BINARY, os.X_OK):
        sys.exit("not an executable: " + BINARY)
    unittest.main(argv=[sys.argv[0]] + sys.argv[1:], verbosity=2)
