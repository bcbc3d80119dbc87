"""Shared by the Kubernetes manifest and Helm chart tests: the pinned tools, the schema validation and look-ups in
rendered manifests."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
TOOLS_DIR = ROOT / ".cache" / "kubernetes-tools"
# The oldest Kubernetes version still supported upstream when this was written; the manifests use nothing newer.
KUBERNETES_VERSION = "1.32.0"
# Environment variables of Baton containers that are read from Secrets, never written in the manifests.
SECRET_KEYS = {"BATON_API_DATABASE_CONNECTION_URL": "database-url", "BATON_AUTH_BOOTSTRAP_ADMIN_KEY": "admin-key"}

Manifest = dict[str, Any]


def tool(name: str) -> str:
    """kubectl or helm: the pinned one scripts/kubernetes-tools.sh installs, else one on PATH; skip without."""
    found = shutil.which(name, path=str(TOOLS_DIR)) or shutil.which(name)
    if found is None:
        pytest.skip(f"no {name} (bash scripts/kubernetes-tools.sh installs it)")
    return found


def run_tool(*argv: str) -> list[Manifest]:
    """Run kubectl or helm; the YAML documents it printed."""
    result = subprocess.run(argv, capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert result.returncode == 0, f"{' '.join(argv)} failed:\n{result.stdout}\n{result.stderr}"
    return [document for document in yaml.safe_load_all(result.stdout) if document]


def validate(manifests: list[Manifest]) -> None:
    """Each object against the pinned Kubernetes version's schema, strictly: an unknown field is an error."""
    assert manifests, "nothing rendered"
    for manifest in manifests:
        try:
            kubernetes_validate.validate(manifest, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(f"{manifest['kind']} {manifest['metadata']['name']}: {exc.message} at {list(exc.path)}")


def find(manifests: list[Manifest], kind: str, name: str) -> Manifest:
    matches = [item for item in manifests if item["kind"] == kind and item["metadata"]["name"] == name]
    assert len(matches) == 1, f"{len(matches)} {kind} named {name}"
    return matches[0]


def kinds(manifests: list[Manifest]) -> set[tuple[str, str]]:
    return {(item["kind"], item["metadata"]["name"]) for item in manifests}


def settings_map(manifests: list[Manifest]) -> dict[str, str]:
    (config_map,) = [item for item in manifests if item["kind"] == "ConfigMap"]
    return dict(config_map["data"])


def baton_containers(manifests: list[Manifest]) -> list[dict[str, Any]]:
    return [
        container
        for item in manifests
        if item["kind"] in {"Deployment", "Job"}
        for container in item["spec"]["template"]["spec"]["containers"]
        if container["image"].startswith("baton")
    ]


def api_container(manifests: list[Manifest], deployment: str) -> dict[str, Any]:
    (container,) = find(manifests, "Deployment", deployment)["spec"]["template"]["spec"]["containers"]
    return dict(container)


def check_api_probes(container: dict[str, Any]) -> None:
    """Readiness on /api/ready, liveness on /api/health, each addressed to localhost."""
    assert container["readinessProbe"]["httpGet"]["path"] == "/api/ready"
    assert container["livenessProbe"]["httpGet"]["path"] == "/api/health"
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        http_get = container[probe]["httpGet"]
        assert http_get["port"] == "http"
        # Otherwise the kubelet sends the pod's IP as the Host, which Baton refuses with a 400.
        assert {"name": "Host", "value": "localhost"} in http_get["httpHeaders"]


def check_secret_references(manifests: list[Manifest], secret: str) -> None:
    """No Secret is written; the database URL and the admin key come from `secret`."""
    assert not [item for item in manifests if item["kind"] == "Secret"]
    referenced = set()
    for container in baton_containers(manifests):
        for variable in container.get("env", []):
            if variable["name"] in SECRET_KEYS:
                assert "value" not in variable, f"{variable['name']} is written in the manifest"
                assert variable["valueFrom"]["secretKeyRef"] == {"name": secret, "key": SECRET_KEYS[variable["name"]]}
                referenced.add(variable["name"])
    assert "BATON_AUTH_BOOTSTRAP_ADMIN_KEY" in referenced


def unknown_baton_variables(manifests: list[Manifest]) -> list[str]:
    from baton.settings import SETTING_NAMES

    names = set(settings_map(manifests))
    for container in baton_containers(manifests):
        names |= {variable["name"] for variable in container.get("env", [])}
    return sorted(name for name in names if name.startswith("BATON_") and name not in SETTING_NAMES)
