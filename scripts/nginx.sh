#!/usr/bin/env bash
# Installs Debian's nginx (nginx-light) for the tests and benchmarks that put Baton behind a reverse proxy
# (tests/nginx_proxy.py runs it unprivileged, with its own config); without it those tests are skipped.
set -euo pipefail

if [ -x /usr/sbin/nginx ] || command -v nginx >/dev/null; then
  exit 0
fi
echo "Installing nginx for the reverse-proxy tests (apt-get install nginx-light)..."
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q nginx-light >/dev/null \
  || { $SUDO apt-get update -q >/dev/null && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q nginx-light >/dev/null; }
