"""Tutor v1 plugin: codejail-service (C++) as edxapp's codejail REST service.

Registers config defaults, the patches in patches/ (edxapp settings, the
docker-compose service, the Kubernetes Deployment and Service), the
templates in templates/ (image build context, service config, seccomp
profile, NetworkPolicy/PDB/HPA/ConfigMap) and the image build hooks."""
from __future__ import annotations

import os

from tutor import hooks

__version__ = "0.1.0"

HERE = os.path.dirname(os.path.abspath(__file__))
IMAGE = "codejail-cpp"  # `tutor images build codejail-cpp`
# The Dockerfile stage holding the source tree; a mounted checkout replaces it.
SOURCE_STAGE = "codejail-service-src"

# Keys are prefixed with CODEJAIL_CPP_ (so they never clash with
# tutor-contrib-codejail's CODEJAIL_*). docs/deploy/tutor.md explains each.
DEFAULTS = {
    "VERSION": __version__,
    "DOCKER_IMAGE": f"codejail-service:{__version__}",
    "HOST": "codejail",
    "HOST_PORT": 8550,
    "WORKERS": 4,
    "REPLICAS": 2,
    "MAX_REPLICAS": 10,
    "CPU_REQUEST": "1",
    "CPU_LIMIT": "2",
    "MEMORY_REQUEST": "1Gi",
    "MEMORY_LIMIT": "2Gi",
    "SANDBOX_REQUIREMENTS": [],
    "REPOSITORY": "",
    "REPOSITORY_VERSION": f"v{__version__}",
}

hooks.Filters.CONFIG_DEFAULTS.add_items(
    [(f"CODEJAIL_CPP_{key}", value) for key, value in DEFAULTS.items()])

hooks.Filters.ENV_TEMPLATE_ROOTS.add_item(os.path.join(HERE, "templates"))
hooks.Filters.ENV_TEMPLATE_TARGETS.add_items([
    ("codejail_cpp/build", "plugins"),
    ("codejail_cpp/apps", "plugins"),
    ("codejail_cpp/k8s", "plugins"),
])

# One file per patch, named as the patch.
for _name in sorted(os.listdir(os.path.join(HERE, "patches"))):
    with open(os.path.join(HERE, "patches", _name), encoding="utf-8") as _f:
        hooks.Filters.ENV_PATCHES.add_item((_name, _f.read()))


@hooks.Filters.IMAGES_BUILD.add()
def _build_image(images: list, config: dict) -> list:
    # deploy/docker/Dockerfile's build arg: install the rendered
    # sandbox/requirements.txt only when there is something in it (pip and
    # an index are needed for it, not for Debian's course packages).
    args: tuple = ()
    if config.get("CODEJAIL_CPP_SANDBOX_REQUIREMENTS"):
        args = ("--build-arg=SANDBOX_REQUIREMENTS=requirements.txt",)
    images.append((IMAGE, ("plugins", "codejail_cpp", "build", IMAGE),
                   "{{ CODEJAIL_CPP_DOCKER_IMAGE }}", args))
    return images


def is_source_checkout(path: str) -> bool:
    """A codejail-service-cpp checkout, whatever its directory is called."""
    return all(os.path.exists(os.path.join(path, rel)) for rel in
               ("deploy/docker/Dockerfile", "jail/CMakeLists.txt", "server/CMakeLists.txt"))


@hooks.Filters.IMAGES_BUILD_MOUNTS.add()
def _mount_source(mounts: list, path: str) -> list:
    # `tutor mounts add /path/to/checkout`: the build takes the source from
    # there (docker buildx --build-context codejail-service-src=PATH).
    if is_source_checkout(path):
        mounts.append((IMAGE, SOURCE_STAGE))
    return mounts


hooks.Filters.IMAGES_PULL.add_item((IMAGE, "{{ CODEJAIL_CPP_DOCKER_IMAGE }}"))
hooks.Filters.IMAGES_PUSH.add_item((IMAGE, "{{ CODEJAIL_CPP_DOCKER_IMAGE }}"))
