"""The official `prefect` CLI's commands of each group that talks to the server, typed as a user types them: their
exit codes, their key output and what they leave on the server, the same against Baton as against Prefect's own
server (BATON_ACCEPTANCE_SERVER=prefect). Each group's commands run in one process (tests/acceptance/cli_commands.py)
because importing prefect costs about 2 s. Listings alone are in test_prefect_cli_listings.py."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.acceptance.conftest import ApiServer, created
from tests.acceptance.prefect_cli import run_cli

pytestmark = pytest.mark.slow

# How long `events stream` gets to print the events emitted while it runs.
STREAM_WAIT_SECONDS = 30

FLOW_FILE = """from prefect import flow


@flow
def cli_hello(who: str = "world") -> str:
    return f"hello {who}"
"""

PREFECT_YAML = """name: cli-groups
prefect-version: 3.9.1
pull:
- prefect.deployments.steps.set_working_directory:
    directory: {directory}
deployments:
- name: yaml-dep
  entrypoint: flows.py:cli_hello
  work_pool:
    name: cli-groups-pool
  parameters:
    who: yaml
  schedules:
  - interval: 3600
  tags: [from-yaml]
- name: yaml-dep2
  entrypoint: flows.py:cli_hello
  work_pool:
    name: cli-groups-pool
    job_variables:
      env:
        A: "1"
"""


def read(api: httpx.Client, path: str) -> Any:
    response = api.get(path)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
def api(cli_server: ApiServer) -> Iterator[httpx.Client]:
    """An HTTP client for the module's server (the conftest's `api` is for the per-database `api_server`)."""
    with httpx.Client(base_url=cli_server.api_url, timeout=10.0) as client:
        yield client


def test_flow(cli_server: ApiServer, api: httpx.Client, tmp_path: Path) -> None:
    created(api, "/flows/", {"name": "cli-flow-older"})
    created(api, "/flows/", {"name": "cli-flow-newer"})
    every, newest = run_cli(cli_server, tmp_path, [["flow", "ls"], ["flow", "ls", "--limit", "1"]])
    every.ok("Flows", "cli-flow-newer", "cli-flow-older")
    newest.ok("cli-flow-newer")
    assert "cli-flow-older" not in newest.output


def test_flow_run(cli_server: ApiServer, api: httpx.Client, tmp_path: Path) -> None:
    flow = created(api, "/flows/", {"name": "cli-run-flow"})
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    scheduled_state = {"type": "SCHEDULED", "state_details": {"scheduled_time": later}}
    scheduled = created(api, "/flow_runs/", {"flow_id": flow["id"], "name": "cli-sched", "state": scheduled_state})
    failed = created(api, "/flow_runs/", {"flow_id": flow["id"], "name": "cli-failed", "state": {"type": "FAILED"}})
    running = created(api, "/flow_runs/", {"flow_id": flow["id"], "name": "cli-running", "state": {"type": "RUNNING"}})
    deployment = created(api, "/deployments/", {"flow_id": flow["id"], "name": "cli-run-dep"})
    deployed = created(
        api,
        "/flow_runs/",
        {"flow_id": flow["id"], "deployment_id": deployment["id"], "name": "cli-deployed", "state": {"type": "FAILED"}},
    )
    logs = [
        {"name": "cli", "level": 20, "message": f"line {i}", "timestamp": f"2026-01-01T00:00:0{i}Z"} for i in range(3)
    ]
    assert api.post("/logs/", json=[{**log, "flow_run_id": failed["id"]} for log in logs]).status_code == 201
    unknown = str(uuid.uuid4())
    by_flow = ["flow-run", "ls", "--flow-name", "cli-run-flow"]
    (
        inspected,
        inspected_json,
        listed,
        listed_failed,
        listed_scheduled,
        listed_json,
        bad_state_type,
        none_listed,
        logged,
        head,
        tail,
        reverse,
        logged_json,
        cancelled,
        cancel_unknown,
        retry_scheduled,
        retry_undeployed,
        retried,
        retry_unknown,
        deployed_json,
        deleted,
        deleted_again,
        inspect_deleted,
    ) = run_cli(
        cli_server,
        tmp_path,
        [
            ["flow-run", "inspect", scheduled["id"]],
            ["flow-run", "inspect", scheduled["id"], "-o", "json"],
            by_flow,
            [*by_flow, "--state-type", "FAILED"],
            [*by_flow, "--state", "scheduled"],
            [*by_flow, "--limit", "1", "-o", "json"],
            ["flow-run", "ls", "--state-type", "bogus"],
            ["flow-run", "ls", "--flow-name", "no-such-flow"],
            ["flow-run", "logs", failed["id"]],
            ["flow-run", "logs", failed["id"], "--head", "--num-logs", "2"],
            ["flow-run", "logs", failed["id"], "--tail", "-n", "1"],
            ["flow-run", "logs", failed["id"], "--reverse"],
            ["flow-run", "logs", failed["id"], "-o", "json"],
            ["flow-run", "cancel", running["id"]],
            ["flow-run", "cancel", unknown],
            ["flow-run", "retry", scheduled["id"]],
            ["flow-run", "retry", failed["id"]],
            ["flow-run", "retry", "cli-deployed"],
            ["flow-run", "retry", "no-such-run"],
            ["flow-run", "inspect", deployed["id"], "-o", "json"],
            ["flow-run", "delete", scheduled["id"]],
            ["flow-run", "delete", scheduled["id"]],
            ["flow-run", "inspect", scheduled["id"]],
        ],
    )
    inspected.ok("FlowRun(", "name='cli-sched'", "state=State(", "type=StateType.SCHEDULED")
    shown = inspected_json.ok().json()
    assert (shown["id"], shown["name"], shown["state"]["type"]) == (scheduled["id"], "cli-sched", "SCHEDULED")
    assert shown["labels"] == {"prefect.flow.id": flow["id"]}
    listed.ok("Flow Runs", "cli-deployed", "cli-running", "cli-failed", "cli-sched")
    listed_failed.ok("cli-deployed", "cli-failed")
    assert "cli-sched" not in listed_failed.output and "cli-running" not in listed_failed.output
    listed_scheduled.ok("cli-sched")
    assert "cli-failed" not in listed_scheduled.output
    # Sorted by expected start time, latest first: the run scheduled an hour from now.
    assert [run["name"] for run in listed_json.ok().json()] == ["cli-sched"]
    bad_state_type.fails("Invalid state type. Options are SCHEDULED, PENDING, RUNNING, COMPLETED, FAILED, CANCELLED")
    none_listed.ok("No flow runs found.")
    logged.ok("Flow run 'cli-failed' - line 0", "Flow run 'cli-failed' - line 1", "Flow run 'cli-failed' - line 2")
    assert [line[-6:] for line in head.ok().lines_with("line")] == ["line 0", "line 1"]
    assert [line[-6:] for line in tail.ok().lines_with("line")] == ["line 2"]
    assert [line[-6:] for line in reverse.ok().lines_with("line")] == ["line 2", "line 1", "line 0"]
    assert [log["message"] for log in logged_json.ok().json()] == ["line 0", "line 1", "line 2"]
    cancelled.ok(f"Flow run '{running['id']}' was successfully scheduled for cancellation.")
    assert read(api, f"/flow_runs/{running['id']}")["state_type"] in ("CANCELLING", "CANCELLED")
    cancel_unknown.fails(f"Flow run '{unknown}' not found!")
    retry_scheduled.fails(f"Flow run '{scheduled['id']}' is in state 'SCHEDULED' and cannot be retried.")
    retry_undeployed.fails(f"Flow run '{failed['id']}' does not have an associated deployment.")
    retried.ok(f"Flow run '{deployed['id']}' has been scheduled for retry. A worker will pick it up shortly.")
    retry_unknown.fails("Flow run 'no-such-run' not found!")
    after_retry = deployed_json.ok().json()
    assert after_retry["state"]["type"] == "SCHEDULED"
    assert after_retry["state"]["message"] == "Retried via CLI"
    assert after_retry["labels"] == {"prefect.flow.id": flow["id"], "prefect.deployment.id": deployment["id"]}
    deleted.ok(f"Successfully deleted flow run '{scheduled['id']}'.")
    deleted_again.fails(f"Flow run '{scheduled['id']}' not found!")
    inspect_deleted.fails(f"Flow run '{scheduled['id']}' not found!")
    assert api.get(f"/flow_runs/{scheduled['id']}").status_code == 404


def test_deployment(cli_server: ApiServer, api: httpx.Client, tmp_path: Path) -> None:
    flow = created(api, "/flows/", {"name": "cli-dep-flow"})
    schema = {"type": "object", "properties": {"x": {"type": "integer"}}}
    hourly = {"schedule": {"interval": 3600}, "active": True}
    body = {"flow_id": flow["id"], "parameters": {"x": 1}, "parameter_openapi_schema": schema, "tags": ["t1"]}
    first = created(api, "/deployments/", {**body, "name": "cli-dep", "schedules": [hourly]})
    second = created(api, "/deployments/", {"flow_id": flow["id"], "name": "cli-dep2"})
    name, name2, schedule_id = "cli-dep-flow/cli-dep", "cli-dep-flow/cli-dep2", first["schedules"][0]["id"]
    unknown = str(uuid.uuid4())
    ran = run_cli(
        cli_server,
        tmp_path,
        [
            ["deployment", "inspect", name],
            ["deployment", "inspect", name, "-o", "json"],
            ["deployment", "inspect", "cli-dep-flow/nope"],
            ["deployment", "inspect", "no-slash"],
            ["deployment", "ls", "cli-dep-flow"],
            ["deployment", "ls", "cli-dep-flow", "--by-created"],
            ["deployment", "ls", "cli-dep-flow", "-o", "json"],
            ["deployment", "run", name, "--param", "x=2", "--tag", "extra"],
            ["deployment", "run", name, "--param", "y=1"],
            ["deployment", "run", "cli-dep-flow/nope"],
            ["deployment", "schedule", "ls", name],
            ["deployment", "schedule", "create", name, "--interval", "60"],
            ["deployment", "schedule", "create", name, "--cron", "0 * * * *", "--timezone", "Europe/Paris"],
            ["deployment", "schedule", "create", name, "--rrule", "FREQ=DAILY"],
            ["deployment", "schedule", "pause", name, schedule_id],
            ["deployment", "schedule", "resume", name, schedule_id],
            ["deployment", "schedule", "pause", name, schedule_id],
            ["deployment", "schedule", "ls", name],
            ["deployment", "schedule", "resume", "--all"],
            ["deployment", "schedule", "delete", name, schedule_id, "-y"],
            ["deployment", "schedule", "delete", name, unknown, "-y"],
            ["deployment", "schedule", "clear", name, "-y"],
            ["deployment", "delete", name2],
            ["deployment", "delete", name2],
            ["deployment", "delete", "--id", first["id"]],
            ["deployment", "ls", "cli-dep-flow"],
        ],
    )
    ran[0].ok("'name': 'cli-dep'", "'parameters': {'x': 1}", "'tags': ['t1']", "'automations': []")
    shown = ran[1].ok().json()
    assert (shown["id"], shown["status"], shown["automations"]) == (first["id"], "NOT_READY", [])
    assert shown["labels"] == {"prefect.flow.id": flow["id"]}
    ran[2].fails("Deployment 'cli-dep-flow/nope' not found!")
    ran[3].fails("Invalid deployment name. Expected '<flow-name>/<deployment-name>'")
    ran[4].ok("Deployments", "cli-dep-flow/cli-dep", "cli-dep-flow/cli-dep2")
    ran[5].ok("Deployments", "cli-dep-flow/cli-dep2", "cli-dep-flow/cli-dep")
    assert [deployment["name"] for deployment in ran[6].ok().json()] == ["cli-dep", "cli-dep2"]
    ran[7].ok(f"Creating flow run for deployment '{name}'...", "Created flow run '", "Parameters: {'x': 2}")
    ran[8].fails(
        "The following parameters were specified but not found on the deployment: 'y'",
        "The following parameters are available on the deployment: 'x'",
    )
    ran[9].fails("Deployment 'cli-dep-flow/nope' not found!")
    ran[10].ok("Deployment Schedules", schedule_id, "interval: 1:00:00s", "True")
    for created_schedule in ran[11:14]:
        created_schedule.ok("Created deployment schedule!")
    ran[14].ok("Paused schedule interval=datetime.timedelta(seconds=3600)", f"for deployment {name}")
    ran[15].ok("Resumed schedule interval=datetime.timedelta(seconds=3600)", f"for deployment {name}")
    ran[17].ok("rrule: DTSTART", "cron: 0 * * * *", "interval: 0:01:00s", "interval: 1:00:00s")
    assert ran[17].lines_with("interval: 1:00:00s")[0].split()[-2:] == ["False", "│"]
    ran[18].ok("Resumed schedule for deployment cli-dep", "deployment schedule(s).")
    ran[19].ok(f"Deleted deployment schedule {schedule_id}")
    ran[20].fails("Deployment schedule not found!")
    ran[21].ok(f"Cleared all schedules for deployment {name}")
    ran[22].ok(f"Deleted deployment '{name2}'.")
    ran[23].fails(f"Deployment '{name2}' not found!")
    ran[24].ok(f"Deleted deployment '{first['id']}'.")
    assert "cli-dep-flow/cli-dep" not in ran[25].ok("Deployments").output
    assert api.get(f"/deployments/{second['id']}").status_code == 404


def test_deploy_from_prefect_yaml(cli_server: ApiServer, api: httpx.Client, tmp_path: Path) -> None:
    created(api, "/work_pools/", {"name": "cli-groups-pool", "type": "process"})
    project = tmp_path / "project"
    project.mkdir()
    (project / "flows.py").write_text(FLOW_FILE)
    (project / "prefect.yaml").write_text(PREFECT_YAML.format(directory=project))
    every, again, unnamed, missing_pool, from_entrypoint = run_cli(
        cli_server,
        tmp_path,
        [
            ["deploy", "--all"],
            ["deploy", "-n", "yaml-dep"],
            ["deploy", "-n", "nope"],
            ["deploy", "flows.py:cli_hello", "-n", "cli-dep", "-p", "no-such-pool"],
            [
                "deploy",
                "flows.py:cli_hello",
                "-n",
                "cli-dep",
                "-p",
                "cli-groups-pool",
                "--cron",
                "0 1 * * *",
                "--param",
                "who=cli",
            ],
        ],
        cwd=project,
    )
    every.ok(
        "Deploying yaml-dep",
        "Deployment 'cli-hello/yaml-dep' successfully created with id",
        "$ prefect worker start --pool 'cli-groups-pool'",
        "Deploying yaml-dep2",
        "Deployment 'cli-hello/yaml-dep2' successfully created with id",
    )
    yaml_dep = read(api, "/deployments/name/cli-hello/yaml-dep")
    again.ok(f"Deployment 'cli-hello/yaml-dep' successfully created with id '{yaml_dep['id']}'.")
    unnamed.fails("An entrypoint must be provided:")
    missing_pool.fails("This deployment configuration references work pool 'no-such-pool' which does not exist.")
    from_entrypoint.ok("Deployment 'cli-hello/cli-dep' successfully created with id")
    assert yaml_dep["work_pool_name"] == "cli-groups-pool" and yaml_dep["work_queue_name"] == "default"
    assert (yaml_dep["parameters"], yaml_dep["tags"], yaml_dep["entrypoint"]) == (
        {"who": "yaml"},
        ["from-yaml"],
        "flows.py:cli_hello",
    )
    assert yaml_dep["pull_steps"] == [{"prefect.deployments.steps.set_working_directory": {"directory": str(project)}}]
    assert [schedule["schedule"]["interval"] for schedule in yaml_dep["schedules"]] == [3600.0]
    assert yaml_dep["parameter_openapi_schema"]["properties"]["who"]["default"] == "world"
    assert yaml_dep.get("version_info") is None and yaml_dep["version"]
    assert yaml_dep["labels"] == {"prefect.flow.id": yaml_dep["flow_id"]}
    yaml_dep2 = read(api, "/deployments/name/cli-hello/yaml-dep2")
    assert (yaml_dep2["job_variables"], yaml_dep2["schedules"]) == ({"env": {"A": "1"}}, [])
    cli_dep = read(api, "/deployments/name/cli-hello/cli-dep")
    assert cli_dep["parameters"] == {"who": "cli"}
    assert [schedule["schedule"]["cron"] for schedule in cli_dep["schedules"]] == ["0 1 * * *"]


def test_variable(cli_server: ApiServer, api: httpx.Client, tmp_path: Path) -> None:
    ran = run_cli(
        cli_server,
        tmp_path,
        [
            ["variable", "set", "cli_a", "hello"],
            ["variable", "set", "cli_b", '{"k": [1, 2]}', "--tag", "x", "--tag", "y"],
            ["variable", "set", "cli_a", "again"],
            ["variable", "set", "cli_a", "42", "--overwrite"],
            ["variable", "get", "cli_a"],
            ["variable", "get", "cli_b"],
            ["variable", "get", "cli_nope"],
            ["variable", "inspect", "cli_b"],
            ["variable", "inspect", "cli_b", "-o", "json"],
            ["variable", "inspect", "cli_nope"],
            ["variable", "ls"],
            ["variable", "ls", "-o", "json"],
            ["variable", "unset", "cli_a"],
            ["variable", "unset", "cli_a"],
            ["variable", "delete", "cli_b"],
        ],
    )
    ran[0].ok("Set variable 'cli_a'.")
    ran[1].ok("Set variable 'cli_b'.")
    ran[2].fails("Variable 'cli_a' already exists. Use `--overwrite` to update it.")
    ran[3].ok("Set variable 'cli_a'.")
    assert ran[4].ok().output == "42\n"
    assert ran[5].ok().output == '{"k": [1, 2]}\n'
    ran[6].fails("Variable 'cli_nope' not found.")
    ran[7].ok("Variable(", "name='cli_b'", "value={'k': [1, 2]}", "tags=['x', 'y']")
    shown = ran[8].ok().json()
    assert (shown["name"], shown["value"], shown["tags"]) == ("cli_b", {"k": [1, 2]}, ["x", "y"])
    ran[9].fails("Variable 'cli_nope' not found.")
    ran[10].ok("Variables", "cli_a", "42", "cli_b", '{"k": [1, 2]}')
    listed = {variable["name"]: variable["value"] for variable in ran[11].ok().json()}
    assert (listed["cli_a"], listed["cli_b"]) == (42, {"k": [1, 2]})
    ran[12].ok("Unset variable 'cli_a'.")
    ran[13].fails("Variable 'cli_a' not found.")
    ran[14].ok("Unset variable 'cli_b'.")
    assert api.get("/variables/name/cli_b").status_code == 404


def test_block(cli_server: ApiServer, api: httpx.Client, tmp_path: Path) -> None:
    registered, *ran = run_cli(
        cli_server,
        tmp_path,
        [
            ["block", "register", "-m", "prefect.blocks.system"],
            ["block", "type", "ls"],
            ["block", "type", "inspect", "secret"],
            ["block", "type", "inspect", "nope"],
            ["block", "create", "secret"],
            ["block", "create", "nope"],
            ["block", "type", "delete", "secret"],
            ["block", "type", "delete", "nope"],
        ],
    )
    registered.ok("Successfully registered 1 block", "Registered Blocks", "Secret")
    ran[0].ok("Block Types", "secret", "prefect block create secret")
    ran[1].ok("Secret", "Slug", "secret", "Description", "A block that represents a secret value", "value")
    ran[2].fails("Block type 'nope' not found!")
    ran[3].ok("Create a secret block: ", "/blocks/catalog/secret/create")
    ran[4].fails("Block type 'nope' not found!", "Available block types: ", "secret")
    ran[5].fails("Block Type 'secret' is a protected block!")
    ran[6].fails("Block Type 'nope' not found!")

    block_type = read(api, "/block_types/slug/secret")
    schemas = api.post("/block_schemas/filter", json={"block_schemas": {"block_type_id": {"any_": [block_type["id"]]}}})
    common = {"block_type_id": block_type["id"], "block_schema_id": schemas.json()[0]["id"]}
    document = created(api, "/block_documents/", {**common, "name": "cli-doc", "data": {"value": "s3cret"}})
    other = created(api, "/block_documents/", {**common, "name": "cli-doc2", "data": {"value": "x"}})
    unknown = str(uuid.uuid4())
    ran = run_cli(
        cli_server,
        tmp_path,
        [
            ["block", "ls"],
            ["block", "ls", "-o", "json"],
            ["block", "inspect", "secret/cli-doc"],
            ["block", "inspect", "--id", document["id"]],
            ["block", "inspect", "secret/nope"],
            ["block", "inspect", "--id", unknown],
            ["block", "inspect", "secret/cli-doc", "-o", "json"],
            ["block", "delete", "secret/cli-doc"],
            ["block", "delete", "secret/cli-doc"],
            ["block", "delete", "--id", other["id"]],
            ["block", "delete", "--id", other["id"]],
        ],
    )
    ran[0].ok("Blocks", document["id"], "Secret", "cli-doc", "secret/cli-doc", "secret/cli-doc2")
    listed = {block["name"]: block["data"] for block in ran[1].ok().json()}
    assert (listed["cli-doc"], listed["cli-doc2"]) == ({"value": "s3cret"}, {"value": "x"})
    for inspected in ran[2:4]:
        inspected.ok("secret/cli-doc", "Block Type", "Secret", "Block id", document["id"], "value", "********")
    ran[4].fails("Block 'secret/nope' not found!")
    ran[5].fails(f"Block '{unknown}' not found!")
    shown = ran[6].ok().json()
    assert (shown["id"], shown["data"]) == (document["id"], {"value": "********"})
    assert shown["block_type"]["slug"] == "secret"
    ran[7].ok("Deleted Block 'secret/cli-doc'.")
    ran[8].fails("Block 'secret/cli-doc' not found!")
    ran[9].ok(f"Deleted Block '{other['id']}'.")
    ran[10].fails(f"Block '{other['id']}' not found!")
    assert api.get(f"/block_documents/{document['id']}").status_code == 404


def test_concurrency_limit(cli_server: ApiServer, api: httpx.Client, tmp_path: Path) -> None:
    ran = run_cli(
        cli_server,
        tmp_path,
        [
            ["concurrency-limit", "create", "cli-tag", "3"],
            ["concurrency-limit", "create", "cli-tag", "5"],
            ["concurrency-limit", "inspect", "cli-tag"],
            ["concurrency-limit", "inspect", "cli-tag", "-o", "json"],
            ["concurrency-limit", "inspect", "nope-tag"],
            ["concurrency-limit", "ls"],
            ["concurrency-limit", "ls", "--limit", "1", "--offset", "0", "-o", "json"],
            ["concurrency-limit", "reset", "cli-tag"],
            ["concurrency-limit", "reset", "nope-tag"],
            ["concurrency-limit", "delete", "cli-tag"],
            ["concurrency-limit", "delete", "cli-tag"],
        ],
    )
    ran[0].ok("Created concurrency limit with properties:", "tag - 'cli-tag'", "concurrency_limit - 3")
    ran[1].ok("Created concurrency limit with properties:", "tag - 'cli-tag'", "concurrency_limit - 5")
    ran[2].ok("Concurrency Limit ID: ", "cli-tag", "5", "Active Task Run IDs")
    shown = ran[3].ok().json()
    assert (shown["tag"], shown["concurrency_limit"], shown["active_slots"]) == ("cli-tag", 5, [])
    ran[4].fails("No concurrency limit found for the tag: nope-tag")
    ran[5].ok("Concurrency Limits", "cli-tag", shown["id"], "5", "0")
    assert len(ran[6].ok().json()) == 1
    ran[7].ok("Reset concurrency limit set on the tag: cli-tag")
    ran[8].fails("No concurrency limit found for the tag: nope-tag")
    ran[9].ok("Deleted concurrency limit set on the tag: cli-tag")
    ran[10].fails("No concurrency limit found for the tag: cli-tag")
    assert api.get("/concurrency_limits/tag/cli-tag").status_code == 404


def test_global_concurrency_limit(cli_server: ApiServer, api: httpx.Client, tmp_path: Path) -> None:
    ran = run_cli(
        cli_server,
        tmp_path,
        [
            ["gcl", "create", "cli-gcl", "--limit", "3"],
            ["gcl", "create", "cli-gcl", "--limit", "3"],
            [
                "global-concurrency-limit",
                "create",
                "cli-gcl2",
                "--limit",
                "2",
                "--disable",
                "--active-slots",
                "1",
                "--slot-decay-per-second",
                "0.5",
            ],
            ["gcl", "inspect", "cli-gcl"],
            ["gcl", "inspect", "cli-gcl2", "-o", "json"],
            ["gcl", "inspect", "nope"],
            ["gcl", "ls"],
            ["gcl", "update", "cli-gcl", "--limit", "10", "--active-slots", "2"],
            ["gcl", "update", "cli-gcl"],
            ["gcl", "update", "cli-gcl", "--enable", "--disable"],
            ["gcl", "update", "nope", "--limit", "1"],
            ["gcl", "disable", "cli-gcl"],
            ["gcl", "disable", "cli-gcl"],
            ["gcl", "enable", "cli-gcl"],
            ["gcl", "enable", "cli-gcl"],
            ["gcl", "inspect", "cli-gcl", "-o", "json"],
            ["gcl", "create", "cli-negative", "--limit", "-1"],
            ["gcl", "delete", "cli-gcl"],
            ["gcl", "delete", "cli-gcl"],
            ["gcl", "delete", "cli-gcl2"],
        ],
    )
    ran[0].ok("Created global concurrency limit with name 'cli-gcl' and ID '")
    ran[1].fails("Global concurrency limit 'cli-gcl' already exists.")
    ran[2].ok("Created global concurrency limit with name 'cli-gcl2' and ID '")
    ran[3].ok("GlobalConcurrencyLimitResponse(", "name='cli-gcl'", "limit=3", "active_slots=0")
    shown = ran[4].ok().json()
    # Its one active slot decays as time passes, so its count is not checked here.
    assert {key: shown[key] for key in ("name", "active", "limit", "slot_decay_per_second")} == {
        "name": "cli-gcl2",
        "active": False,
        "limit": 2,
        "slot_decay_per_second": 0.5,
    }
    ran[5].fails("Global concurrency limit 'nope' not found.")
    ran[6].ok("Global Concurrency Limits", "cli-gcl", "True", "3", "cli-gcl2", "False", "2", "0.5")
    ran[7].ok("Updated global concurrency limit with name 'cli-gcl'.")
    ran[8].fails("No update arguments provided.")
    ran[9].fails("Cannot enable and disable a global concurrency limit at the same time.")
    ran[10].fails("Global concurrency limit 'nope' not found.")
    ran[11].ok("Disabled global concurrency limit with name 'cli-gcl'.")
    ran[12].fails("Global concurrency limit with name 'cli-gcl' is already disabled.")
    ran[13].ok("Enabled global concurrency limit with name 'cli-gcl'.")
    ran[14].fails("Global concurrency limit with name 'cli-gcl' is already enabled.")
    shown = ran[15].ok().json()
    assert (shown["active"], shown["limit"], shown["active_slots"]) == (True, 10, 2)
    ran[16].fails("Invalid arguments provided:", "Input should be greater than or equal to 0")
    ran[17].ok("Deleted global concurrency limit with name 'cli-gcl'.")
    ran[18].fails("Global concurrency limit 'cli-gcl' not found.")
    ran[19].ok("Deleted global concurrency limit with name 'cli-gcl2'.")
    assert api.get("/v2/concurrency_limits/cli-gcl").status_code == 404


def test_artifact(cli_server: ApiServer, api: httpx.Client, tmp_path: Path) -> None:
    markdown = {"key": "cli-art", "type": "markdown"}
    created(api, "/artifacts/", {**markdown, "data": "# v1", "description": "first"})
    latest = created(api, "/artifacts/", {**markdown, "data": "# v2", "description": "second"})
    table = created(api, "/artifacts/", {"key": "cli-table", "type": "table", "data": [{"a": 1}]})
    ran = run_cli(
        cli_server,
        tmp_path,
        [
            ["artifact", "ls"],
            ["artifact", "ls", "--all"],
            ["artifact", "ls", "-o", "json"],
            ["artifact", "inspect", "cli-art"],
            ["artifact", "inspect", "cli-art", "--limit", "1", "-o", "json"],
            ["artifact", "inspect", "nope"],
            ["artifact", "delete", "--id", table["id"]],
            ["artifact", "delete", "--id", table["id"]],
            ["artifact", "delete", "cli-art"],
            ["artifact", "delete", "cli-art"],
            ["artifact", "delete"],
        ],
    )
    assert len(ran[0].ok("Artifacts", "cli-art", "markdown").lines_with("cli-art")) == 1
    assert len(ran[1].ok("Artifacts", "cli-art", "markdown").lines_with("cli-art")) == 2
    listed = {artifact["key"]: artifact for artifact in ran[2].ok().json()}
    assert (listed["cli-art"]["latest_id"], listed["cli-table"]["type"]) == (latest["id"], "table")
    ran[3].ok(
        "'key': 'cli-art'", "'description': 'second'", "'data': '# v2'", "'description': 'first'", "'data': '# v1"
    )
    assert [artifact["data"] for artifact in ran[4].ok().json()] == ["# v2"]
    ran[5].fails("Artifact 'nope' not found.")
    ran[6].ok(f"Deleted artifact with id '{table['id']}'.")
    ran[7].fails(f"Artifact with id '{table['id']}' not found!")
    ran[8].ok("Deleted 2 artifact(s) with key 'cli-art'.")
    ran[9].fails("Artifact with key 'cli-art' not found.")
    ran[10].fails("Please provide a key or an artifact_id.")
    assert api.get(f"/artifacts/{latest['id']}").status_code == 404


def test_events(cli_server: ApiServer, tmp_path: Path) -> None:
    resource = '{"prefect.resource.id": "cli.res.2", "k": "v"}'
    ping, pong, streamed, no_resource, bad_resource = run_cli(
        cli_server,
        tmp_path,
        [
            {"background": ["events", "stream", "--format", "text"], "name": "stream"},
            ["events", "emit", "cli.test.ping", "--resource-id", "cli.res.1"],
            ["events", "emit", "cli.test.pong", "--resource", resource, "--payload", '{"a": 1}'],
            {"wait_for": "stream", "containing": ["cli.test.pong"], "timeout": STREAM_WAIT_SECONDS},
            ["events", "emit", "cli.test.none"],
            ["events", "emit", "cli.test.bad", "--resource", "not-json"],
        ],
    )
    ping.ok("Successfully emitted event 'cli.test.ping' with ID ")
    pong.ok("Successfully emitted event 'cli.test.pong' with ID ")
    streamed.ok("Subscribing to event stream...")
    # Prefect's own server can miss an event emitted while the stream connects (its backfill reads only what is
    # already stored), so only the last one is required; each event streamed is shown as TIME EVENT RESOURCE.
    lines = [line.split()[1:] for line in streamed.lines_with("cli.test.")]
    assert lines[-1] == ["cli.test.pong", "cli.res.2"]
    assert lines in ([["cli.test.ping", "cli.res.1"], ["cli.test.pong", "cli.res.2"]], [["cli.test.pong", "cli.res.2"]])
    no_resource.fails("Resource must include 'prefect.resource.id'")
    bad_resource.fails("Resource must be JSON or 'key=value' format")
