"""Local stand-ins for the images compose.yaml pulls from a registry, which cannot be pulled here, and the Baton image
built from the Dockerfile on top of them.

Everything starts from the docker worker tests' Debian bookworm minbase (`baton-test-prefect-base`, built once by
scripts/docker.sh): one base with Debian's PostgreSQL, Redis and nginx, then a thin image for each service (the
folders beside this file) and Baton's image built from the repository's Dockerfile with that base as BASE_IMAGE.
Each image is tagged with a hash of what it is built from, so a later run finds it and skips the build; a change to
any of those files (or to Baton's source) builds a new tag.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
IMAGES_DIR = Path(__file__).resolve().parent / "images"
DEBOOTSTRAP_BASE = "baton-test-prefect-base"
HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
REPOSITORY = "baton-compose-test"
# What the Dockerfile copies (kept in step with .dockerignore, which tests/test_compose.py checks against it).
BATON_SOURCES = ("Dockerfile", "pyproject.toml", "README.md", "baton")
SERVICE_IMAGES = ("postgres", "redis", "nginx")
BUILD_TIMEOUT_SECONDS = 1200


@dataclass(frozen=True)
class StackImages:
    """The image of each compose.yaml service, as the variables compose.yaml reads them from."""

    postgres: str
    redis: str
    nginx: str
    baton: str

    def compose_variables(self) -> dict[str, str]:
        return {
            "BATON_POSTGRES_IMAGE": self.postgres,
            "BATON_REDIS_IMAGE": self.redis,
            "BATON_NGINX_IMAGE": self.nginx,
            "BATON_IMAGE": self.baton,
        }


def image_exists(image: str) -> bool:
    return subprocess.run(["docker", "image", "inspect", image], capture_output=True).returncode == 0


def image_id(image: str) -> str:
    result = subprocess.run(
        ["docker", "image", "inspect", "--format", "{{.Id}}", image], capture_output=True, text=True, check=True
    )
    return result.stdout.strip()


def tree_hash(root: Path, paths: list[Path], *extra: str) -> str:
    """A short hash of the files under `paths` (names relative to `root`, and contents) and of `extra` strings."""
    digest = hashlib.sha256()
    for text in extra:
        digest.update(text.encode() + b"\0")
    files = sorted(
        file
        for path in paths
        for file in ([path] if path.is_file() else path.rglob("*"))
        if file.is_file() and "__pycache__" not in file.parts and file.suffix not in {".pyc", ".pyo"}
    )
    for file in files:
        digest.update(str(file.relative_to(root)).encode() + b"\0")
        digest.update(file.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def docker_build(context: Path, tag: str, base_image: str, dockerfile: Path | None = None) -> None:
    """`docker build` on the host network (apt and pip reach the registries the way the host does)."""
    command = ["docker", "build", "--quiet", "--network", "host", "--build-arg", f"BASE_IMAGE={base_image}"]
    if dockerfile is not None:
        command += ["--file", str(dockerfile)]
    result = subprocess.run(
        [*command, "--tag", tag, str(context)], capture_output=True, text=True, timeout=BUILD_TIMEOUT_SECONDS
    )
    if result.returncode != 0:
        raise RuntimeError(f"building {tag} failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}")


def build_if_missing(tag: str, build: Callable[[], None]) -> str:
    """`tag`, built unless it exists; a new build removes the repository's older tags (each Baton change makes one)."""
    if not image_exists(tag):
        build()
        remove_other_tags(tag)
    return tag


def remove_other_tags(tag: str) -> None:
    """Remove the other tags of `tag`'s repository; one a container still uses (a run in another checkout) stays."""
    repository = tag.rpartition(":")[0]
    listed = subprocess.run(
        ["docker", "image", "ls", repository, "--format", "{{.Repository}}:{{.Tag}}"], capture_output=True, text=True
    )
    older = [name for name in listed.stdout.split() if name != tag]
    if older:
        subprocess.run(["docker", "image", "rm", *older], capture_output=True)


def stack_base() -> str:
    """The Debian base with PostgreSQL, Redis and nginx installed and the host's CA bundle."""
    base_dir = IMAGES_DIR / "base"
    digest = tree_hash(IMAGES_DIR, [base_dir], image_id(DEBOOTSTRAP_BASE), HOST_CA_BUNDLE.read_text())
    tag = f"{REPOSITORY}-base:{digest}"

    def build() -> None:
        with tempfile.TemporaryDirectory(prefix="baton-stack-base-") as context:
            shutil.copy(base_dir / "Dockerfile", context)
            shutil.copy(HOST_CA_BUNDLE, Path(context) / "host-ca-certificates.crt")
            docker_build(Path(context), tag, DEBOOTSTRAP_BASE)

    return build_if_missing(tag, build)


def service_image(name: str, base: str) -> str:
    folder = IMAGES_DIR / name
    tag = f"{REPOSITORY}-{name}:{tree_hash(IMAGES_DIR, [folder], base)}"
    return build_if_missing(tag, lambda: docker_build(folder, tag, base))


def baton_image(base: str) -> str:
    """Baton's image, built from the repository's own Dockerfile with the local base as BASE_IMAGE."""
    tag = f"{REPOSITORY}-baton:{tree_hash(ROOT, [ROOT / path for path in BATON_SOURCES], base)}"
    return build_if_missing(tag, lambda: docker_build(ROOT, tag, base, ROOT / "Dockerfile"))


def build_stack_images() -> StackImages:
    """Every image the compose stack needs, built only when its tag is missing. Needs `DEBOOTSTRAP_BASE`."""
    if not image_exists(DEBOOTSTRAP_BASE):
        raise RuntimeError(f"no image {DEBOOTSTRAP_BASE!r}: run `bash scripts/docker.sh` first")
    base = stack_base()
    postgres, redis, nginx = (service_image(name, base) for name in SERVICE_IMAGES)
    return StackImages(postgres=postgres, redis=redis, nginx=nginx, baton=baton_image(base))
