#!/usr/bin/python3
"""The Tutor plugin (deploy/tutor) without Tutor: its hook calls against a
recording stand-in of tutor.hooks, its templates and patches rendered with
Debian's Jinja2 (default and non-default settings), and the rendered compose
service and Kubernetes objects run through the repository's static checkers
(test/deploy/containers), which must also fail on broken copies."""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tutor_env as T  # noqa: E402  (puts the stand-in first on sys.path)
from tutor import hooks  # noqa: E402

CHECKS = os.path.join(T.REPO, "test", "deploy", "containers")
sys.path.insert(0, CHECKS)
from importlib.machinery import SourceFileLoader  # noqa: E402

check_docker = SourceFileLoader("check_docker", os.path.join(CHECKS, "check_docker")).load_module()

TAG = "codejail-service:0.1.0"
OTHER = dict(CODEJAIL_CPP_DOCKER_IMAGE="registry.example.org/codejail-service:0.2.1",
             CODEJAIL_CPP_HOST="codejail-cpp", CODEJAIL_CPP_HOST_PORT=18550,
             CODEJAIL_CPP_WORKERS=8, CODEJAIL_CPP_REPLICAS=3, CODEJAIL_CPP_MAX_REPLICAS=12,
             CODEJAIL_CPP_CPU_REQUEST="1.5", CODEJAIL_CPP_CPU_LIMIT="3",
             CODEJAIL_CPP_MEMORY_REQUEST="2Gi", CODEJAIL_CPP_MEMORY_LIMIT="4Gi",
             CODEJAIL_CPP_SANDBOX_REQUIREMENTS=["openedx-calc==3.1.2", "chem==2.0.0"],
             CODEJAIL_CPP_REPOSITORY="https://git.example.org/codejail-service-cpp.git",
             CODEJAIL_CPP_REPOSITORY_VERSION="v0.2.1")


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def comparable(dockerfile_text):
    """The instructions minus the source stage, with COPY sources mapped back
    to the repository layout: what deploy/docker/Dockerfile must equal."""
    out, skipping = [], False
    for kw, args in check_docker.instructions(dockerfile_text):
        if kw == "FROM":
            skipping = args.endswith(" AS codejail-service-src")
        if skipping:
            continue
        if kw == "COPY":
            args = args.replace("--from=codejail-service-src ", "")
            args = re.sub(r"^sandbox/ ", "deploy/docker/sandbox/ ", args)
        out.append((kw, args))
    return out


class Rendered(unittest.TestCase):
    """Renders into a scratch env/ tree; runs the checkers on it."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="cjs-tutor-")
        self.addCleanup(shutil.rmtree, self.tmp)

    def render(self, cfg, compose_mutation=lambda t: t, k8s_mutation=lambda n, t: t):
        env = os.path.join(self.tmp, "env")
        T.render_templates(cfg, env)
        compose = T.write_compose(cfg, env, compose_mutation)
        k8s = T.write_k8s(cfg, env, os.path.join(self.tmp, "k8s"), k8s_mutation)
        return env, compose, k8s

    def checkers(self, cfg, which=("docker", "k8s"), **mutations):
        env, compose, k8s = self.render(cfg, **mutations)
        docker = kube = None
        if "docker" in which:
            docker = subprocess.run([os.path.join(CHECKS, "check_docker"), "--compose", compose,
                                     "--built-image", cfg["CODEJAIL_CPP_DOCKER_IMAGE"]],
                                    capture_output=True, text=True)
        if "k8s" in which:
            kube = subprocess.run([os.path.join(CHECKS, "check_k8s"), "--manifests", k8s,
                                   "--compose", compose, "--config",
                                   os.path.join(env, "plugins/codejail_cpp/apps/config.yaml")],
                                  capture_output=True, text=True)
        return docker, kube


class Hooks(unittest.TestCase):
    def test_only_real_filters_and_every_registration_recorded(self):
        used = {name for name, _, _ in hooks.CALLS}
        self.assertEqual(used, {"CONFIG_DEFAULTS", "ENV_TEMPLATE_ROOTS", "ENV_TEMPLATE_TARGETS",
                                "ENV_PATCHES", "IMAGES_BUILD", "IMAGES_BUILD_MOUNTS",
                                "IMAGES_PULL", "IMAGES_PUSH"})

    def test_config_defaults(self):
        cfg = T.config()
        self.assertEqual(cfg["CODEJAIL_CPP_DOCKER_IMAGE"], TAG)
        self.assertEqual(cfg["CODEJAIL_CPP_HOST"], "codejail")
        self.assertEqual(cfg["CODEJAIL_CPP_WORKERS"], 4)
        self.assertEqual(cfg["CODEJAIL_CPP_REPLICAS"], 2)
        self.assertEqual(cfg["CODEJAIL_CPP_SANDBOX_REQUIREMENTS"], [])
        for key in ("CPU_REQUEST", "CPU_LIMIT", "MEMORY_REQUEST", "MEMORY_LIMIT", "HOST_PORT",
                    "MAX_REPLICAS", "REPOSITORY", "REPOSITORY_VERSION"):
            self.assertIn("CODEJAIL_CPP_" + key, cfg)
        self.assertTrue(all(k.startswith("CODEJAIL_CPP_") for k in cfg))

    def test_patch_names(self):
        self.assertEqual(sorted(T.patches()), [
            "cms-env", "k8s-deployments", "k8s-services", "kustomization-resources", "lms-env",
            "local-docker-compose-services", "openedx-cms-common-settings",
            "openedx-lms-common-settings"])

    def test_image_build_pull_push(self):
        path = ("plugins", "codejail_cpp", "build", "codejail-cpp")
        self.assertEqual(list(hooks.Filters.IMAGES_BUILD.iterate(T.config())),
                         [("codejail-cpp", path, "{{ CODEJAIL_CPP_DOCKER_IMAGE }}", ())])
        with_reqs = T.config(CODEJAIL_CPP_SANDBOX_REQUIREMENTS=["chem==2.0.0"])
        self.assertEqual(list(hooks.Filters.IMAGES_BUILD.iterate(with_reqs))[0][3],
                         ("--build-arg=SANDBOX_REQUIREMENTS=requirements.txt",))
        # The build directory the entry names is one the templates fill.
        self.assertIn(("codejail_cpp/build", "plugins"), list(hooks.Filters.ENV_TEMPLATE_TARGETS.iterate()))
        for f in (hooks.Filters.IMAGES_PULL, hooks.Filters.IMAGES_PUSH):
            self.assertEqual(list(f.iterate(T.config())), [("codejail-cpp", "{{ CODEJAIL_CPP_DOCKER_IMAGE }}")])

    def test_build_mount_only_for_a_checkout(self):
        self.assertEqual(list(hooks.Filters.IMAGES_BUILD_MOUNTS.iterate(T.REPO)),
                         [("codejail-cpp", "codejail-service-src")])
        self.assertEqual(list(hooks.Filters.IMAGES_BUILD_MOUNTS.iterate("/usr/share/doc")), [])


class Settings(unittest.TestCase):
    def test_lms_and_cms_env(self):
        for name in ("lms-env", "cms-env"):
            for cfg, host in ((T.config(), "codejail"), (T.config(**OTHER), "codejail-cpp")):
                values = yaml.safe_load(T.render_patch(name, cfg))
                self.assertIs(values["ENABLE_CODEJAIL_REST_SERVICE"], True)
                self.assertEqual(values["CODE_JAIL_REST_SERVICE_HOST"], f"http://{host}:8550")

    def test_python_settings(self):
        for name in ("openedx-lms-common-settings", "openedx-cms-common-settings"):
            settings = {}
            exec(T.render_patch(name, T.config(**OTHER)), settings)  # noqa: S102
            self.assertIs(settings["ENABLE_CODEJAIL_REST_SERVICE"], True)
            self.assertEqual(settings["CODE_JAIL_REST_SERVICE_HOST"], "http://codejail-cpp:8550")


class Templates(Rendered):
    def test_defaults_reproduce_the_repository_files(self):
        env, _, _ = self.render(T.config())
        apps = os.path.join(env, "plugins/codejail_cpp/apps")
        self.assertEqual(read(os.path.join(apps, "config.yaml")), read(os.path.join(T.REPO, "deploy/docker/config.yaml")))
        self.assertEqual(read(os.path.join(apps, "seccomp-codejail.json")),
                         read(os.path.join(T.REPO, "deploy/docker/seccomp-codejail.json")))

    def test_dockerfile_is_the_repository_dockerfile(self):
        repo = comparable(read(os.path.join(T.REPO, "deploy/docker/Dockerfile")))
        for cfg in (T.config(), T.config(**OTHER)):
            env, _, _ = self.render(cfg)
            text = read(os.path.join(env, "plugins/codejail_cpp/build/codejail-cpp/Dockerfile"))
            self.assertEqual(comparable(text), repo)
            self.assertNotEqual(comparable(re.sub(r"\nUSER [^\n]*", "", text)), repo)
        self.assertIn("ADD https://git.example.org/codejail-service-cpp.git#v0.2.1 /", text)

    def test_non_default_settings_reach_the_output(self):
        env, compose, k8s = self.render(T.config(**OTHER))
        self.assertIn("  workers: 8\n", read(os.path.join(env, "plugins/codejail_cpp/apps/config.yaml")))
        reqs = read(os.path.join(env, "plugins/codejail_cpp/build/codejail-cpp/sandbox/requirements.txt"))
        self.assertEqual([l for l in reqs.splitlines() if not l.startswith("#")],
                         ["openedx-calc==3.1.2", "chem==2.0.0"])
        svc = yaml.safe_load(read(compose))["services"]["codejail"]
        self.assertEqual(svc["ports"], ["127.0.0.1:18550:8550"])
        self.assertEqual(svc["networks"]["default"]["aliases"], ["codejail-cpp"])
        dep = yaml.safe_load(read(os.path.join(k8s, "deployment.yaml")))
        self.assertEqual(dep["spec"]["replicas"], 3)
        res = dep["spec"]["template"]["spec"]["containers"][0]["resources"]
        self.assertEqual(res, {"requests": {"cpu": "1.5", "memory": "2Gi"}, "limits": {"cpu": "3", "memory": "4Gi"}})


class Checkers(Rendered):
    def test_rendered_documents_pass(self):
        for cfg in (T.config(), T.config(**OTHER)):
            docker, kube = self.checkers(cfg)
            self.assertEqual(docker.returncode, 0, docker.stdout)
            self.assertEqual(kube.returncode, 0, kube.stdout)

    def assertCaught(self, result, rule):
        self.assertNotEqual(result.returncode, 0, result.stdout)
        self.assertRegex(result.stdout, rf"(?m)^FAIL {rule} ")

    def test_compose_mutations_are_caught(self):
        def sub(old, new):
            return lambda t: t.replace(old, new) if old in t else self.fail(f"not rendered: {old}")
        for rule, mutation in [
                ("C4", sub("  - systempaths=unconfined\n", "")),
                ("C4", sub("  - seccomp=../plugins/codejail_cpp/apps/seccomp-codejail.json", "  - seccomp=unconfined")),
                ("C4", sub("  cap_drop:\n    - ALL\n", "  cap_add:\n    - SYS_ADMIN\n")),
                ("C5", sub("read_only: true", "read_only: false")),
                ("C1", sub("image: " + TAG, "image: codejail-service:0.0.9"))]:
            docker, _ = self.checkers(T.config(), ("docker",), compose_mutation=mutation)
            self.assertCaught(docker, rule)

    def test_k8s_mutations_are_caught(self):
        def sub(file, old, new):
            def mutate(name, text):
                if name != file:
                    return text
                self.assertIn(old, text)
                return text.replace(old, new)
            return mutate
        for rule, mutation in [
                ("K6", sub("deployment.yaml", "readOnlyRootFilesystem: true", "readOnlyRootFilesystem: false")),
                ("K6", sub("deployment.yaml", "type: Localhost\n          localhostProfile: profiles/codejail-seccomp.json",
                           "type: Unconfined")),
                ("K7", sub("networkpolicy.yml", "  egress: []", "  egress:\n    - {}")),
                ("K3", sub("kustomization.yaml", "- service.yaml\n", "")),
                ("K8", sub("configmap.yml", "VMEM: 536870912", "VMEM: 0"))]:
            _, kube = self.checkers(T.config(), ("k8s",), k8s_mutation=mutation)
            self.assertCaught(kube, rule)


if __name__ == "__main__":
    unittest.main(verbosity=2)
