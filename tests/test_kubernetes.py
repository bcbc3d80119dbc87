"""deploy/kubernetes/ rendered by `kubectl kustomize` and each rendered object validated against the Kubernetes API
schemas of a pinned version (kubernetes-validate, strict), then checked for what Baton needs: the probes, the
settings, the Secret references and what each overlay keeps or drops."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.kubernetes_manifests import (
    ROOT,
    Manifest,
    api_container,
    check_api_probes,
    check_secret_references,
    find,
    kinds,
    run_tool,
    settings_map,
    tool,
    unknown_baton_variables,
    validate,
)

KUBERNETES_DIR = ROOT / "deploy" / "kubernetes"
OVERLAYS = ("postgres-redis", "sqlite-single-pod")


def render(directory: Path) -> list[Manifest]:
    return run_tool(tool("kubectl"), "kustomize", str(directory))


def render_overlay(name: str) -> list[Manifest]:
    return render(KUBERNETES_DIR / "overlays" / name)


def render_with_ingress(overlay: str, tmp_path: Path) -> list[Manifest]:
    """The overlay with the ingress component added, the way a user's own kustomization would add it (kustomize
    takes relative paths only)."""
    relative = Path(os.path.relpath(KUBERNETES_DIR, tmp_path))
    kustomization = {
        "resources": [str(relative / "overlays" / overlay)],
        "components": [str(relative / "components" / "ingress")],
    }
    (tmp_path / "kustomization.yaml").write_text(yaml.safe_dump(kustomization))
    return render(tmp_path)


@pytest.fixture(scope="module", params=OVERLAYS)
def overlay(request: pytest.FixtureRequest) -> Iterator[list[Manifest]]:
    yield render_overlay(request.param)


def test_every_rendered_object_is_valid_for_the_pinned_kubernetes(overlay: list[Manifest]) -> None:
    validate(overlay)


@pytest.mark.parametrize("name", OVERLAYS)
def test_the_ingress_component_adds_a_valid_ingress_and_its_host(name: str, tmp_path: Path) -> None:
    manifests = render_with_ingress(name, tmp_path)
    validate(manifests)
    ingress = find(manifests, "Ingress", "baton")
    (rule,) = ingress["spec"]["rules"]
    assert rule["http"]["paths"][0]["backend"]["service"] == {"name": "baton-api", "port": {"name": "http"}}
    # Baton answers only the host names it knows: the Ingress host must be one of them.
    assert settings_map(manifests)["BATON_SERVER_ALLOWED_HOSTS"] == rule["host"]


def test_the_api_has_readiness_and_liveness_probes_and_a_service(overlay: list[Manifest]) -> None:
    check_api_probes(api_container(overlay, "baton-api"))
    pod_labels = find(overlay, "Deployment", "baton-api")["spec"]["template"]["metadata"]["labels"]
    assert find(overlay, "Service", "baton-api")["spec"]["selector"].items() <= pod_labels.items()


def test_secrets_are_referenced_never_written(overlay: list[Manifest]) -> None:
    check_secret_references(overlay, "baton")


def test_settings_are_baton_settings_in_a_hashed_config_map(overlay: list[Manifest]) -> None:
    assert not unknown_baton_variables(overlay)
    (config_map,) = [item for item in overlay if item["kind"] == "ConfigMap"]
    # The hash suffix changes with the settings, so that a change rolls the Deployments that use them.
    assert config_map["metadata"]["name"].startswith("baton-settings-")


def test_postgres_redis_runs_the_whole_stack() -> None:
    manifests = render_overlay("postgres-redis")
    assert {
        ("Deployment", "baton-api"),
        ("Deployment", "baton-services"),
        ("Job", "baton-migrate"),
        ("StatefulSet", "baton-postgres"),
        ("StatefulSet", "baton-redis"),
        ("Service", "baton-postgres"),
        ("Service", "baton-redis"),
    } <= kinds(manifests)
    assert find(manifests, "Deployment", "baton-api")["spec"]["replicas"] == 2
    settings = settings_map(manifests)
    assert settings["BATON_REDIS_URL"] == "redis://baton-redis:6379/0"
    # The Job migrates; nothing else may race it.
    assert settings["BATON_API_DATABASE_MIGRATE_ON_START"] == "false"
    (migrate,) = find(manifests, "Job", "baton-migrate")["spec"]["template"]["spec"]["containers"]
    assert migrate["command"] == ["baton", "server", "database", "upgrade", "-y"]
    postgres = find(manifests, "StatefulSet", "baton-postgres")["spec"]["template"]["spec"]["containers"][0]
    password = next(variable for variable in postgres["env"] if variable["name"] == "POSTGRES_PASSWORD")
    assert password["valueFrom"]["secretKeyRef"] == {"name": "baton-postgres", "key": "password"}


def test_sqlite_single_pod_is_one_api_pod_on_a_volume_without_redis() -> None:
    manifests = render_overlay("sqlite-single-pod")
    assert {(kind, name) for kind, name in kinds(manifests) if kind != "ConfigMap"} == {
        ("Service", "baton-api"),
        ("Deployment", "baton-api"),
        ("PersistentVolumeClaim", "baton-data"),
    }
    api = find(manifests, "Deployment", "baton-api")["spec"]
    assert api["replicas"] == 1 and api["strategy"] == {"type": "Recreate"}
    settings = settings_map(manifests)
    assert "BATON_REDIS_URL" not in settings, "without Redis the API server runs the actors itself"
    assert settings["BATON_API_DATABASE_MIGRATE_ON_START"] == "true"
    container = api_container(manifests, "baton-api")
    assert "BATON_API_DATABASE_CONNECTION_URL" not in {variable["name"] for variable in container["env"]}
    volume = next(volume for volume in api["template"]["spec"]["volumes"] if volume["name"] == "home")
    assert volume == {"name": "home", "persistentVolumeClaim": {"claimName": "baton-data"}}
    mount = next(mount for mount in container["volumeMounts"] if mount["name"] == "home")
    assert mount["mountPath"] == "/var/lib/baton"  # BATON_HOME in the Dockerfile
