"""Renders the plugin as Tutor would, without Tutor: imports the plugin
against the hooks stand-in, collects its config defaults and patches, and
renders templates and patches with Jinja2 as tutor/env.py does
(FileSystemLoader over the template roots, StrictUndefined). Then lays the
output out as Tutor's env/ tree: env/local/docker-compose.yml with the
compose patch under `services:` (indent 2, as Tutor's template does), and
the Kubernetes objects in one directory with a kustomization listing them."""
import importlib
import os
import sys

import jinja2
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
PLUGIN_DIR = os.path.join(REPO, "deploy", "tutor")
sys.path[:0] = [os.path.join(HERE, "stand_in"), PLUGIN_DIR]

from tutor import hooks  # noqa: E402  (the stand-in)

plugin = importlib.import_module("tutorcodejail_cpp.plugin")


def config(**overrides):
    values = dict(hooks.Filters.CONFIG_DEFAULTS.iterate())
    values.update(overrides)
    return values


def patches():
    result = {}
    for name, text in hooks.Filters.ENV_PATCHES.iterate():
        result.setdefault(name, []).append(text)
    return {name: "\n".join(texts) for name, texts in result.items()}


def environment():
    roots = hooks.Filters.ENV_TEMPLATE_ROOTS.apply([])
    return jinja2.Environment(loader=jinja2.FileSystemLoader(roots), undefined=jinja2.StrictUndefined)


def render_patch(name, cfg):
    return environment().from_string(patches()[name]).render(**cfg)


def render_templates(cfg, env_root):
    """Every template of every target, written below env_root as Tutor does."""
    env = environment()
    written = []
    for src, dst in hooks.Filters.ENV_TEMPLATE_TARGETS.iterate():
        for name in env.list_templates():
            if name.startswith(src + "/"):
                out = os.path.join(env_root, dst, name)
                os.makedirs(os.path.dirname(out), exist_ok=True)
                with open(out, "w", encoding="utf-8") as f:
                    f.write(env.get_template(name).render(**cfg))
                written.append(out)
    return written


def write_compose(cfg, env_root, mutate=lambda t: t):
    text = mutate(render_patch("local-docker-compose-services", cfg))
    path = os.path.join(env_root, "local", "docker-compose.yml")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write("---\nservices:\n  " + jinja2.filters.do_indent(text, 2) + "\n")
    return path


def write_k8s(cfg, env_root, out_dir, mutate=lambda name, t: t):
    """deployment.yaml and service.yaml from the k8s patches, the plugin's
    k8s templates that kustomization-resources lists, and a kustomization."""
    os.makedirs(out_dir, exist_ok=True)
    files = {"deployment.yaml": render_patch("k8s-deployments", cfg),
             "service.yaml": render_patch("k8s-services", cfg)}
    for entry in yaml.safe_load(render_patch("kustomization-resources", cfg)):
        with open(os.path.join(env_root, entry), encoding="utf-8") as f:
            files[os.path.basename(entry)] = f.read()
    files["kustomization.yaml"] = yaml.safe_dump({
        "apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization",
        "resources": sorted(n for n in files if n != "kustomization.yaml")})
    for name, text in files.items():
        with open(os.path.join(out_dir, name), "w", encoding="utf-8") as f:
            f.write(mutate(name, text) + ("" if text.endswith("\n") else "\n"))
    return out_dir
