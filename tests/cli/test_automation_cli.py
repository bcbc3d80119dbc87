"""`baton automation ...` as subprocesses against a real Baton server, and the SDK calls they make."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from baton.client import BatonClient
from baton.errors import ObjectNotFound, ValidationFailed
from tests.cli.test_resource_cli import api, api_url, env, fails, ok, table

__all__ = ["api", "api_url", "env"]  # module-scoped fixtures: one server for this module

FAILED_RUNS = {
    "type": "event",
    "match": {"prefect.resource.id": "prefect.flow-run.*"},
    "expect": ["prefect.flow-run.Failed"],
    "posture": "Reactive",
    "threshold": 1,
    "within": 0,
}


def _automation(name: str, **fields: Any) -> dict[str, Any]:
    return {"name": name, "trigger": FAILED_RUNS, "actions": [{"type": "do-nothing"}], **fields}


@pytest.fixture(autouse=True)
def _no_automations(api: httpx.Client) -> None:
    """Each test starts with no automations on the module's server."""
    for row in api.post("/automations/filter", json={}).json():
        api.delete(f"/automations/{row['id']}")


def test_create_from_file_ls_inspect_pause_resume_delete(
    env: dict[str, str], api: httpx.Client, tmp_path: Path
) -> None:
    path = tmp_path / "automations.json"
    proactive = {"type": "event", "posture": "Proactive", "expect": ["etl.finished"], "within": 3600}
    path.write_text(
        json.dumps({"automations": [_automation("on-failure", tags=["ops"]), _automation("late", trigger=proactive)]})
    )
    out = ok(env, "automation", "create", "--from-file", str(path))
    stored = {row["name"]: row for row in api.post("/automations/filter", json={}).json()}
    assert out == (
        f"Created automation 'on-failure' ({stored['on-failure']['id']}).\n"
        f"Created automation 'late' ({stored['late']['id']}).\n"
    )
    assert stored["on-failure"]["tags"] == ["ops"]

    rows = table(ok(env, "automation", "ls"))
    assert rows == [
        ["NAME", "ID", "ENABLED", "TRIGGER", "ACTIONS"],
        ["late", stored["late"]["id"], "yes", "Proactive: etl.finished x1 within 3600s", "do-nothing"],
        ["on-failure", stored["on-failure"]["id"], "yes", "Reactive: prefect.flow-run.Failed", "do-nothing"],
    ]
    listed = json.loads(ok(env, "automation", "ls", "--json"))
    assert [row["name"] for row in listed] == ["late", "on-failure"]

    inspected = ok(env, "automation", "inspect", "on-failure")
    assert "Enabled" in inspected and "prefect.flow-run.Failed" in inspected and stored["on-failure"]["id"] in inspected
    by_id = json.loads(ok(env, "automation", "inspect", stored["late"]["id"], "--json"))
    assert by_id == stored["late"]

    assert ok(env, "automation", "pause", "on-failure") == "Paused automation 'on-failure'.\n"
    assert api.get(f"/automations/{stored['on-failure']['id']}").json()["enabled"] is False
    assert ["on-failure", stored["on-failure"]["id"], "no"] == table(ok(env, "automation", "ls"))[2][:3]
    assert ok(env, "automation", "resume", stored["on-failure"]["id"]) == (
        f"Resumed automation {stored['on-failure']['id']!r}.\n"
    )
    assert api.get(f"/automations/{stored['on-failure']['id']}").json()["enabled"] is True

    # Without -y, delete asks; "n" keeps it.
    assert "Aborted" in fails(env, "automation", "delete", "late", stdin="n\n")
    assert api.get(f"/automations/{stored['late']['id']}").status_code == 200
    assert ok(env, "automation", "delete", "late", stdin="y\n").endswith("Deleted automation 'late'.\n")
    assert ok(env, "automation", "delete", "on-failure", "-y") == "Deleted automation 'on-failure'.\n"
    assert api.post("/automations/count").json() == 0
    assert ok(env, "automation", "ls") == "No automations.\n"


def test_errors_are_one_clear_line(env: dict[str, str], api: httpx.Client, tmp_path: Path) -> None:
    assert "Automation 'nope' not found." in fails(env, "automation", "inspect", "nope")
    assert "Automation 'nope' not found." in fails(env, "automation", "pause", "nope")
    missing = "00000000-0000-0000-0000-000000000001"
    assert f"Automation {missing} does not exist." in fails(env, "automation", "delete", missing, "-y")

    not_json = tmp_path / "bad.json"
    not_json.write_text("name: yaml-is-not-read\n")
    assert f"{not_json} is not valid JSON" in fails(env, "automation", "create", "--from-file", str(not_json))
    absent = tmp_path / "absent.json"
    assert "Cannot read" in fails(env, "automation", "create", "--from-file", str(absent))
    scalar = tmp_path / "scalar.json"
    scalar.write_text("[1, 2]")
    assert "must hold an automation" in fails(env, "automation", "create", "--from-file", str(scalar))

    # A refused automation is named with the field at fault; the good one beside it is still created.
    mixed = tmp_path / "mixed.json"
    bad_trigger = {**FAILED_RUNS, "posture": "Proactive", "within": 5}
    mixed.write_text(json.dumps([_automation("good"), _automation("bad", trigger=bad_trigger)]))
    result_err = fails(env, "automation", "create", "--from-file", str(mixed))
    assert "automation 'bad' refused:" in result_err and "body.trigger" in result_err and "10 seconds" in result_err
    assert "1 automation(s) not created." in result_err
    assert [row["name"] for row in api.post("/automations/filter", json={}).json()] == ["good"]

    # Two automations of one name: by name is ambiguous, by id is not.
    twin = tmp_path / "twin.json"
    twin.write_text(json.dumps(_automation("good")))
    ok(env, "automation", "create", "--from-file", str(twin))
    ids = [row["id"] for row in api.post("/automations/filter", json={}).json()]
    message = fails(env, "automation", "pause", "good")
    assert "2 automations are named 'good'" in message and all(each in message for each in ids)
    assert api.post("/automations/count", json={}).json() == 2
    ok(env, "automation", "pause", ids[0])
    assert [row["enabled"] for row in api.post("/automations/filter", json={}).json()] == [False, True]


def test_sdk_calls(api_url: str, api: httpx.Client) -> None:
    with BatonClient(api_url) as client:
        created = client.create_automation(_automation("sdk", description="from the SDK"))
        assert client.read_automation("sdk") == created
        assert client.read_automation(created["id"]) == created
        assert client.read_automations_by_name("sdk") == [created]
        client.set_automation_enabled(created["id"], False)
        assert client.read_automation("sdk")["enabled"] is False
        client.replace_automation(created["id"], _automation("sdk-renamed", enabled=True))
        renamed = client.read_automation(created["id"])
        assert (renamed["name"], renamed["enabled"]) == ("sdk-renamed", True)
        assert [row["name"] for row in client.read_automations(limit=10)] == ["sdk-renamed"]
        owner = "prefect.deployment.00000000-0000-0000-0000-00000000000a"
        owned = client.create_automation({**_automation("owned"), "owner_resource": owner})
        assert [row["id"] for row in client.read_automations_related_to(owner)] == [owned["id"]]
        with pytest.raises(ValidationFailed) as refused:
            client.create_automation(_automation("bad", actions=[{"type": "pause-deployment"}]))
        assert "body.actions.0.pause-deployment: Value error, deployment_id is required" in refused.value.message
        client.delete_automation(created["id"])
        with pytest.raises(ObjectNotFound):
            client.read_automation(created["id"])
        with pytest.raises(ObjectNotFound):
            client.read_automation("sdk-renamed")


def test_deployment_inspect_lists_its_automations(env: dict[str, str], api: httpx.Client) -> None:
    flow_id = api.post("/flows/", json={"name": "inspected"}).json()["id"]
    deployment = api.post("/deployments/", json={"name": "with-triggers", "flow_id": flow_id}).json()
    resource = f"prefect.deployment.{deployment['id']}"
    assert "Automations    -\n" in ok(env, "deployment", "inspect", "inspected/with-triggers")
    api.post("/automations/", json={**_automation("owned-trigger"), "owner_resource": resource})
    runs_it = {"type": "run-deployment", "source": "selected", "deployment_id": deployment["id"]}
    api.post("/automations/", json=_automation("runs-it", actions=[runs_it], enabled=False))
    inspected = ok(env, "deployment", "inspect", "inspected/with-triggers")
    assert "Automations    owned-trigger, runs-it (paused)\n" in inspected
    shown = json.loads(ok(env, "deployment", "inspect", deployment["id"], "--json"))
    assert [row["name"] for row in shown["automations"]] == ["owned-trigger", "runs-it"]
