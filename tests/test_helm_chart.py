"""deploy/helm/baton linted by `helm lint --strict` and rendered by `helm template` in each mode, every object valid
for the pinned Kubernetes version (kubernetes-validate, strict), with what each mode needs."""

from __future__ import annotations

import subprocess

import pytest

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

CHART = ROOT / "deploy" / "helm" / "baton"
RELEASE = "prod"
MODES = {
    "postgresql": [],
    "sqlite": ["--set", "mode=sqlite"],
    "postgresql-ingress": ["--set", "ingress.enabled=true"],
    "sqlite-ingress": ["--set", "mode=sqlite", "--set", "ingress.enabled=true"],
}


def render(*options: str) -> list[Manifest]:
    return run_tool(tool("helm"), "template", RELEASE, str(CHART), *options)


@pytest.mark.parametrize("options", MODES.values(), ids=MODES.keys())
def test_the_chart_lints_and_renders_valid_objects(options: list[str]) -> None:
    lint = subprocess.run(
        [tool("helm"), "lint", "--strict", str(CHART), *options], capture_output=True, text=True, timeout=60
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr
    manifests = render(*options)
    validate(manifests)
    check_api_probes(api_container(manifests, f"{RELEASE}-api"))
    check_secret_references(manifests, "baton")
    assert not unknown_baton_variables(manifests)


def test_postgresql_mode_runs_replicas_workers_and_a_migration_hook() -> None:
    manifests = render("--set", "api.replicas=3", "--set", "settings.BATON_LOGGING_LEVEL=DEBUG")
    assert {
        ("Deployment", f"{RELEASE}-api"),
        ("Deployment", f"{RELEASE}-services"),
        ("Job", f"{RELEASE}-migrate"),
        ("Service", f"{RELEASE}-api"),
    } <= kinds(manifests)
    assert find(manifests, "Deployment", f"{RELEASE}-api")["spec"]["replicas"] == 3
    settings = settings_map(manifests)
    assert settings["BATON_API_DATABASE_MIGRATE_ON_START"] == "false"
    assert settings["BATON_API_URL"] == f"http://{RELEASE}-api:4200/api"
    assert settings["BATON_LOGGING_LEVEL"] == "DEBUG"
    job = find(manifests, "Job", f"{RELEASE}-migrate")
    # Before the new servers start, and before the ConfigMap exists: the Job carries its own settings.
    assert job["metadata"]["annotations"]["helm.sh/hook"] == "pre-install,pre-upgrade"
    (migrate,) = job["spec"]["template"]["spec"]["containers"]
    assert "envFrom" not in migrate
    assert {"name": "BATON_LOGGING_LEVEL", "value": "DEBUG"} in migrate["env"]


def test_sqlite_mode_is_one_api_pod_on_a_volume_without_redis_or_workers() -> None:
    manifests = render("--set", "mode=sqlite", "--set", "api.replicas=3")
    assert {(kind, name) for kind, name in kinds(manifests)} == {
        ("ConfigMap", f"{RELEASE}-settings"),
        ("Service", f"{RELEASE}-api"),
        ("Deployment", f"{RELEASE}-api"),
        ("PersistentVolumeClaim", f"{RELEASE}-data"),
    }
    api = find(manifests, "Deployment", f"{RELEASE}-api")["spec"]
    assert api["replicas"] == 1 and api["strategy"] == {"type": "Recreate"}
    settings = settings_map(manifests)
    assert "BATON_REDIS_URL" not in settings and settings["BATON_API_DATABASE_MIGRATE_ON_START"] == "true"
    volume = next(volume for volume in api["template"]["spec"]["volumes"] if volume["name"] == "home")
    assert volume == {"name": "home", "persistentVolumeClaim": {"claimName": f"{RELEASE}-data"}}


def test_the_ingress_host_is_an_allowed_host() -> None:
    manifests = render("--set", "ingress.enabled=true", "--set", "ingress.host=baton.internal.example")
    (rule,) = find(manifests, "Ingress", RELEASE)["spec"]["rules"]
    assert rule["host"] == "baton.internal.example"
    assert settings_map(manifests)["BATON_SERVER_ALLOWED_HOSTS"] == "baton.internal.example"


def test_values_outside_the_schema_are_refused() -> None:
    result = subprocess.run(
        [tool("helm"), "template", RELEASE, str(CHART), "--set", "mode=mysql"], capture_output=True, text=True
    )
    assert result.returncode != 0 and "mode" in result.stderr
