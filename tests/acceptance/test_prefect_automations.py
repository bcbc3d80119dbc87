"""The official client 3.9.1's automations against Baton: `prefect automation create|ls|inspect|pause|resume|update|
delete`, the `prefect.automations.Automation` SDK class, and deployment triggers (`prefect deploy` with `triggers:`
in prefect.yaml) creating automations the deployment owns, which a redeploy replaces and `prefect deployment inspect`
lists. The same assertions hold against Prefect's own server (BATON_ACCEPTANCE_SERVER=prefect)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.acceptance.conftest import FLOWS_DIR, SERVER_KIND, ApiServer, clean_environ, created, flow_script, tail
from tests.acceptance.prefect_cli import run_cli

pytestmark = pytest.mark.slow

# A served flow imports prefect (about 2 s), registers its deployment and then its triggers.
SERVE_TIMEOUT_SECONDS = 60

FAILED_RUNS = {
    "type": "event",
    "match": {"prefect.resource.id": "prefect.flow-run.*"},
    "expect": ["prefect.flow-run.Failed"],
    "posture": "Reactive",
    "threshold": 1,
    "within": 0,
}

YAML_AUTOMATION = """name: from-yaml
description: made from a YAML file
trigger:
  type: event
  posture: Proactive
  expect: [etl.finished]
  within: 3600
actions:
  - type: do-nothing
"""

FLOW_FILE = """from prefect import flow


@flow
def triggered(who: str = "world") -> str:
    return f"hello {who}"
"""

PREFECT_YAML = """name: automations
prefect-version: 3.9.1
pull:
- prefect.deployments.steps.set_working_directory:
    directory: {directory}
deployments:
- name: on-event
  entrypoint: flows.py:triggered
  work_pool:
    name: automations-pool
  triggers:
  - enabled: true
    match:
      prefect.resource.id: my.external.resource
    expect:
    - external.resource.pinged
    parameters:
      who: "{{{{ event.resource.name }}}}"
  - enabled: false
    name: second-trigger
    match:
      prefect.resource.id: prefect.flow-run.*
    expect:
    - prefect.flow-run.Completed
"""


def _names(api: httpx.Client, *names: str) -> list[str]:
    """The names of the automations called any of `names`, sorted, one entry each (the module's tests share a
    server, so each reads back only what it made)."""
    body = {"automations": {"name": {"any_": list(names)}}}
    return [row["name"] for row in api.post("/automations/filter", json=body).json()]


def _by_name(api: httpx.Client, name: str) -> dict[str, Any]:
    body = {"automations": {"name": {"any_": [name]}}}
    (found,) = api.post("/automations/filter", json=body).json()
    return dict(found)


@pytest.fixture
def api(cli_server: ApiServer) -> Iterator[httpx.Client]:
    """An HTTP client for the module's CLI server (the conftest's `api` is for the per-database `api_server`)."""
    with httpx.Client(base_url=cli_server.api_url, timeout=10.0) as client:
        yield client


def test_automation_commands(cli_server: ApiServer, api: httpx.Client, tmp_path: Path) -> None:
    from_json = {"name": "from-json", "trigger": FAILED_RUNS, "actions": [{"type": "do-nothing"}], "tags": ["cli"]}
    (tmp_path / "automation.yaml").write_text(YAML_AUTOMATION)
    pair = [{**from_json, "name": "pair-1"}, {**from_json, "name": "pair-2"}]
    (tmp_path / "pair.json").write_text(json.dumps({"automations": pair}))
    made = run_cli(
        cli_server,
        tmp_path,
        [
            ["automation", "create", "--from-json", json.dumps(from_json)],
            ["automation", "create", "--from-file", "automation.yaml"],
            ["automation", "create", "--from-file", "pair.json"],
            [
                "automation",
                "create",
                "--from-json",
                json.dumps({**from_json, "actions": [{"type": "pause-deployment"}]}),
            ],
        ],
    )
    json_id, yaml_id = _by_name(api, "from-json")["id"], _by_name(api, "from-yaml")["id"]
    made[0].ok(f"Created automation 'from-json' with id {json_id}")
    made[1].ok(f"Created automation 'from-yaml' with id {yaml_id}")
    made[2].ok("Created 2 automation(s):", "'pair-1' with id", "'pair-2' with id")
    made[3].fails("Failed to create 1 automation(s):", "from-json")
    every = ("from-json", "from-yaml", "pair-1", "pair-2", "renamed")
    assert _names(api, *every) == ["from-json", "from-yaml", "pair-1", "pair-2"]
    assert _by_name(api, "from-yaml")["trigger"]["within"] == 3600.0

    replacement = {**from_json, "name": "renamed", "description": "updated by the CLI", "trigger": FAILED_RUNS}
    ran = run_cli(
        cli_server,
        tmp_path,
        [
            ["automation", "ls"],
            ["automation", "inspect", "from-json"],
            ["automation", "inspect", "from-yaml", "--json"],
            ["automation", "inspect", "from-yaml", "--yaml"],
            ["automation", "inspect", "--id", json_id, "--json"],
            ["automation", "inspect", "nope"],
            ["automation", "pause", "from-json"],
            ["automation", "resume", "--id", json_id],
            ["automation", "pause", "--id", yaml_id],
            ["automation", "update", "--id", json_id, "--from-json", json.dumps(replacement)],
            [
                "automation",
                "update",
                "--id",
                yaml_id.replace(yaml_id[:8], "00000000"),
                "--from-json",
                json.dumps(replacement),
            ],
            ["automation", "delete", "renamed"],
            ["automation", "delete", "--id", yaml_id],
            ["automation", "delete", "from-json"],
        ],
    )
    (listing, inspected, as_json, as_yaml, by_id, missing, paused, resumed, paused_yaml, updated, update_missing,
     deleted, deleted_by_id, delete_missing) = ran  # fmt: skip
    reactive, proactive = (
        "Reactive: expecting 1 of {'prefect.flow-run.Failed'}",
        "Proactive: expecting 1 {'etl.finished'}",
    )
    listing.ok("Automations", "from-json", reactive, json_id, "from-yaml", proactive, yaml_id, "made from a YAML file",
               "pair-1", "pair-2")  # fmt: skip
    inspected.ok("name='from-json'", "tags=['cli']", "expect={'prefect.flow-run.Failed'}", f"id='{json_id}'")
    (shown,) = as_json.ok().json()
    assert (shown["id"], shown["description"], shown["trigger"]["posture"]) == (
        yaml_id,
        "made from a YAML file",
        "Proactive",
    )
    as_yaml.ok("- name: from-yaml", "posture: Proactive", "within: 3600.0", f"id: {yaml_id}")
    assert (by_id.ok().json()["name"], by_id.json()["id"]) == ("from-json", json_id)
    missing.fails("Automation 'nope' not found.")
    paused.ok(f"Paused automation(s) with name 'from-json' and id(s) '{json_id}'.")
    resumed.ok(f"Resumed automation with id '{json_id}'.")
    paused_yaml.ok(f"Paused automation with id '{yaml_id}'.")
    updated.ok(f"Updated automation 'renamed' ({json_id})")
    update_missing.fails("not found")
    deleted.ok("Deleted automation with name 'renamed'")
    deleted_by_id.ok(f"Deleted automation with id '{yaml_id}'")
    delete_missing.fails("Automation 'from-json' not found.")
    assert _names(api, *every) == ["pair-1", "pair-2"]
    for name in ("pair-1", "pair-2"):
        api.delete(f"/automations/{_by_name(api, name)['id']}")


def test_automation_sdk_class(cli_server: ApiServer, api: httpx.Client, tmp_path: Path) -> None:
    completed = flow_script(cli_server, tmp_path, "automations_sdk")
    assert completed.returncode == 0, completed.stdout + completed.stderr
    seen = json.loads(completed.stdout.strip().splitlines()[-1])
    assert seen == {
        "id": seen["id"],
        "trigger_within": 300.0,
        "by_name_id": seen["id"],
        "by_id_name": "sdk-automation",
        "updated": ["updated by the SDK", ["sdk"]],
        "disable": [True, False],
        "enable": [True, True],
        "deleted": True,
        "gone": True,
    }
    assert api.get(f"/automations/{seen['id']}").status_code == 404


def test_deployment_triggers_are_owned_replaced_and_inspected(
    cli_server: ApiServer, api: httpx.Client, tmp_path: Path
) -> None:
    created(api, "/work_pools/", {"name": "automations-pool", "type": "process"})
    project = tmp_path / "project"
    project.mkdir()
    (project / "flows.py").write_text(FLOW_FILE)
    (project / "prefect.yaml").write_text(PREFECT_YAML.format(directory=project))
    first, again = run_cli(cli_server, tmp_path, [["deploy", "--all"], ["deploy", "-n", "on-event"]], cwd=project)
    first.ok("Deployment 'triggered/on-event' successfully created with id")
    again.ok("Deployment 'triggered/on-event' successfully created with id")
    deployment = api.get("/deployments/name/triggered/on-event").json()
    resource = f"prefect.deployment.{deployment['id']}"
    related = api.get(f"/automations/related-to/{resource}").json()
    # Two triggers, deployed twice: the redeploy replaced the first two, so two are left, both owned.
    assert sorted(row["name"] for row in related) == ["on-event__automation_1", "second-trigger"]
    assert _names(api, "on-event__automation_1", "second-trigger") == ["on-event__automation_1", "second-trigger"]
    by_name = {row["name"]: row for row in related}
    first_trigger = by_name["on-event__automation_1"]
    assert first_trigger["enabled"] is True and by_name["second-trigger"]["enabled"] is False
    assert first_trigger["trigger"]["expect"] == ["external.resource.pinged"]
    (action,) = first_trigger["actions"]
    assert (action["type"], action["source"], action["deployment_id"]) == (
        "run-deployment",
        "selected",
        deployment["id"],
    )
    assert action["parameters"] == {"who": "{{ event.resource.name }}"}

    # The client's `-o json` cannot encode an event trigger's sets (a client bug, whatever the server), so the
    # automations are read from its default, pretty-printed output.
    (inspected,) = run_cli(cli_server, tmp_path, [["deployment", "inspect", "triggered/on-event"]])
    inspected.ok(f"'id': '{deployment['id']}'", "'automations': [")
    shown = inspected.output[inspected.output.index("'automations': [") :]
    for row in related:
        assert f"'name': '{row['name']}'" in shown and f"UUID('{row['id']}')" in shown, shown

    # Deleting what the deployment owns leaves an automation that only selects it.
    selecting = created(api, "/automations/", {
        "name": "selects-it", "trigger": FAILED_RUNS,
        "actions": [{"type": "run-deployment", "source": "selected", "deployment_id": deployment["id"]}],
    })  # fmt: skip
    assert api.delete(f"/automations/owned-by/{resource}").status_code == 202
    assert [row["id"] for row in api.get(f"/automations/related-to/{resource}").json()] == [selecting["id"]]
    api.delete(f"/automations/{selecting['id']}")


def _serve_until_triggers_exist(
    server: ApiServer, home: Path, names: list[str], replacing: frozenset[str] = frozenset()
) -> list[dict[str, Any]]:
    """Run `served_triggers.py` until the deployment `add/triggered` owns automations named `names`, none of them
    one of the ids in `replacing`; stop it and return them."""
    env = clean_environ(
        PREFECT_API_URL=server.api_url,
        PREFECT_HOME=str(home / "prefect-home"),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
    )
    home.mkdir()
    log = home / "serve.log"
    arguments = ["--metric"] if "mostly-failing" in names else []
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, str(FLOWS_DIR / "served_triggers.py"), *arguments],
            env=env,
            cwd=FLOWS_DIR,
            stdout=output,
            stderr=output,
        )
    try:
        with httpx.Client(base_url=server.api_url, timeout=10.0) as api:
            deadline = time.monotonic() + SERVE_TIMEOUT_SECONDS
            while time.monotonic() < deadline and process.poll() is None:
                deployment = api.get("/deployments/name/add/triggered")
                if deployment.status_code == 200:
                    resource = f"prefect.deployment.{deployment.json()['id']}"
                    owned = api.get(f"/automations/related-to/{resource}").json()
                    fresh = replacing.isdisjoint(row["id"] for row in owned)
                    if fresh and sorted(row["name"] for row in owned) == sorted(names):
                        return list(owned)
                time.sleep(0.3)
            pytest.fail(f"the served deployment's triggers did not appear.\n{tail(log)}")
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_served_flow_triggers_are_owned_and_replaced(cli_server: ApiServer, api: httpx.Client, tmp_path: Path) -> None:
    names = ["both-done", "on-ping", *(["mostly-failing"] if SERVER_KIND == "baton" else [])]
    first = _serve_until_triggers_exist(cli_server, tmp_path / "first", names)
    # Serving again replaces the triggers: new automations, and none of the first ones left.
    second = _serve_until_triggers_exist(cli_server, tmp_path / "second", names, frozenset(row["id"] for row in first))
    assert _names(api, *names) == sorted(names)
    by_name = {row["name"]: row for row in second}
    deployment_id = api.get("/deployments/name/add/triggered").json()["id"]
    (action,) = by_name["on-ping"]["actions"]
    assert (action["type"], action["deployment_id"], action["parameters"]) == (
        "run-deployment",
        deployment_id,
        {"x": "{{ event.payload.x }}", "y": 1},
    )
    compound = by_name["both-done"]["trigger"]
    assert (compound["type"], compound["require"], compound["within"]) == ("compound", "all", 3600.0)
    assert [child["expect"] for child in compound["triggers"]] == [["etl.extract.done"], ["etl.load.done"]]
    if SERVER_KIND == "baton":
        metric = by_name["mostly-failing"]["trigger"]
        assert (metric["type"], metric["posture"]) == ("metric", "Metric")
        assert metric["metric"] == {
            "name": "successes",
            "threshold": 0.5,
            "operator": "<",
            "range": 600.0,
            "firing_for": 300.0,
        }
    assert api.delete(f"/automations/owned-by/prefect.deployment.{deployment_id}").status_code == 202
    assert _names(api, *names) == []
