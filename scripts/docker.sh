#!/usr/bin/env bash
# Gets a Docker engine and the docker worker tests' image ready on this machine (Debian): installs docker.io,
# Compose (Debian's docker-compose 1.29, unless the engine has `docker compose`) and debootstrap if missing, starts
# dockerd if it is not running, and builds the image once (kept between runs). The compose stack test
# (tests/compose_stack/) builds its images on this image's base.
# No registry image can be pulled here, so the base is a bookworm minbase built with debootstrap and imported; the
# test image adds prefect (the version in this project's .venv) in a virtualenv at /opt/prefect, installed with
# this machine's pip configuration. Costs about a second when everything is already there.
# Usage: bash scripts/docker.sh        (BATON_TEST_DOCKER_IMAGE names the image; default baton-test-prefect)
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE=${BATON_TEST_DOCKER_IMAGE:-baton-test-prefect}
BASE_IMAGE=${IMAGE}-base
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

apt_install() {
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null \
    || { $SUDO apt-get update -q >/dev/null && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null; }
}

if ! command -v dockerd >/dev/null; then
  echo "Installing the Docker engine (apt-get install docker.io)..."
  apt_install docker.io
fi

if ! docker compose version >/dev/null 2>&1 && ! command -v docker-compose >/dev/null; then
  echo "Installing Compose (apt-get install docker-compose)..."
  apt_install docker-compose
fi

if ! docker info >/dev/null 2>&1; then
  echo "Starting dockerd..."
  # A dockerd killed without its clean-up leaves its pid file, and a new one refuses to start beside it.
  if [ -f /var/run/docker.pid ] && ! kill -0 "$(cat /var/run/docker.pid)" 2>/dev/null; then
    $SUDO rm -f /var/run/docker.pid
  fi
  $SUDO sh -c 'dockerd >/var/log/dockerd.log 2>&1 &'
  for _ in $(seq 1 100); do
    docker info >/dev/null 2>&1 && break
    sleep 0.2
  done
  docker info >/dev/null 2>&1 || { echo "dockerd did not start; see /var/log/dockerd.log" >&2; exit 1; }
fi

if docker image inspect "$IMAGE" >/dev/null 2>&1 && docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
  exit 0
fi

if ! docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
  if ! command -v debootstrap >/dev/null; then
    echo "Installing debootstrap..."
    apt_install debootstrap
  fi
  echo "Building the base image $BASE_IMAGE with debootstrap (about a minute, once)..."
  ROOT=$(mktemp -d)
  trap '$SUDO rm -rf "$ROOT"' EXIT
  $SUDO debootstrap --variant=minbase --include=python3,python3-venv,python3-pip,ca-certificates bookworm "$ROOT" \
    >/dev/null
  $SUDO tar -C "$ROOT" -c . | docker import - "$BASE_IMAGE" >/dev/null
fi
if docker image inspect "$IMAGE" >/dev/null 2>&1; then
  exit 0
fi

PREFECT_VERSION=$(.venv/bin/python -c 'import importlib.metadata as m; print(m.version("prefect"))')
echo "Building $IMAGE: prefect==$PREFECT_VERSION in $BASE_IMAGE (once)..."
# pip in the container reaches the package registries the way the host's does: the same configuration, CA
# certificates and local wheel directories, on the host's network.
MOUNTS=()
for path in /etc/pip.conf /etc/xdg/pip "$HOME/.config/pip" "$HOME/.pip" /opt/wheels /opt/pypi /opt/pypi-more; do
  if [ -e "$path" ]; then
    target=$path
    case $path in "$HOME"/*) target=/root/${path#"$HOME"/} ;; esac
    MOUNTS+=(-v "$path:$target:ro")
  fi
done
MOUNTS+=(-v /etc/ssl/certs:/etc/ssl/certs:ro)
BUILDER="baton-image-build-$$"
docker rm -f "$BUILDER" >/dev/null 2>&1 || true
# (pip warns about each local index folder that lacks the package; only the rest is worth showing.)
docker run --name "$BUILDER" --network host "${MOUNTS[@]}" "$BASE_IMAGE" sh -c \
  "python3 -m venv /opt/prefect && /opt/prefect/bin/pip install -q --no-cache-dir prefect==$PREFECT_VERSION" 2>&1 \
  | { grep -v "is ignored: it is neither a file nor a directory" || true; }
docker commit \
  --change 'ENV PATH=/opt/prefect/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV PYTHONUNBUFFERED=1' \
  "$BUILDER" "$IMAGE" >/dev/null
docker rm "$BUILDER" >/dev/null
echo "Built $IMAGE."
