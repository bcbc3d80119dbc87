"""`baton worker start --type docker` against a Baton server and a real Docker engine: a deployment's run goes to
Completed in a container of its image with its printed output in the run's logs; a container that exits without a
final state leaves its run Crashed; cancelling a running run removes its container; the job variables reach the
container. The image (prefect in a Debian bookworm minbase) is built once by scripts/docker.sh and kept."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import docker
import docker.errors
import httpx
import pytest

from baton.worker.base import JobNotStarted
from baton.worker.docker_worker import OUTPUT_LOGGER, container_settings, ensure_image
from baton.worker.job_templates import DOCKER_BASE_JOB_TEMPLATE
from tests.acceptance.conftest import (
    SERVER_KIND,
    ApiServer,
    _prefect_server,
    baton_server_on_fresh_database,
    clean_environ,
    tail,
)
from tests.databases import SINGLE_DIALECT, TemplateDatabases

pytestmark = pytest.mark.slow

IMAGE = os.environ.get("BATON_TEST_DOCKER_IMAGE", "baton-test-prefect")
POOL = "containers"
# The containers of this module's runs carry this worker name as a label, so that they are all removed at its end.
WORKER_NAME = f"dw-{uuid.uuid4().hex[:8]}"
FLOWS_DIR = Path(__file__).parent / "flows"
WORKER_SETTINGS = {
    "BATON_WORKER_QUERY_SECONDS": "0.5",
    "BATON_WORKER_HEARTBEAT_SECONDS": "1",
    "BATON_WORKER_CANCELLATION_POLL_SECONDS": "0.5",
    "BATON_LOGGING_LEVEL": "INFO",
}
# A container starts the prefect CLI (a few seconds; over a minute on a 2-CPU machine at load 40): leave room.
RUN_TIMEOUT_SECONDS = 120.0


@pytest.fixture(scope="module")
def docker_client() -> Iterator[docker.DockerClient]:
    try:
        client = docker.from_env()
        client.images.get(IMAGE)
    except docker.errors.DockerException as exc:
        pytest.skip(f"no Docker engine or no image {IMAGE!r} (bash scripts/docker.sh makes both): {exc}")
    yield client
    client.close()


@pytest.fixture(scope="module")
def api_server(
    docker_client: docker.DockerClient, template_databases: TemplateDatabases, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ApiServer]:
    """One server for the module, on one database: these tests check containers and signals; the SQL behind the
    endpoints the worker calls runs on both databases in tests/server/api/test_work_pools.py. With
    BATON_ACCEPTANCE_SERVER=prefect, Prefect's own server: the worker's calls are Prefect's API."""
    if SERVER_KIND == "prefect":
        yield from _prefect_server(tmp_path_factory.mktemp("prefect-home"))
    else:
        yield from baton_server_on_fresh_database(SINGLE_DIALECT, template_databases, tmp_path_factory)


@pytest.fixture(scope="module")
def api(api_server: ApiServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=api_server.api_url, timeout=10.0) as client:
        yield client


@pytest.fixture(scope="module")
def worker_log(
    api: httpx.Client,
    api_server: ApiServer,
    docker_client: docker.DockerClient,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Path]:
    """One `baton worker start --type docker` for the module; it creates the pool with the docker template. Its
    containers are removed afterwards."""
    home = tmp_path_factory.mktemp("docker-worker")
    env = clean_environ(BATON_HOME=str(home), BATON_API_URL=api_server.api_url, **WORKER_SETTINGS)
    log = home / "worker.log"
    command = [
        sys.executable,
        "-m",
        "baton",
        "worker",
        "start",
        "--type",
        "docker",
        "--pool",
        POOL,
        "--name",
        WORKER_NAME,
    ]
    with log.open("wb") as output:
        worker = subprocess.Popen(command, env=env, cwd=home, stdout=output, stderr=subprocess.STDOUT)
    try:
        _until(lambda: api.get(f"/work_pools/{POOL}").status_code == 200 or worker.poll() is not None, 30)
        assert worker.poll() is None, tail(log)
        yield log
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            assert worker.wait(timeout=30) == 0, tail(log)
        finally:
            if worker.poll() is None:
                worker.kill()
            for container in docker_client.containers.list(
                all=True, filters={"label": f"io.prefect.worker-name={WORKER_NAME}"}
            ):
                container.remove(force=True)


def _until(condition: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


def _run(api: httpx.Client, entrypoint: str, parameters: dict[str, Any], **job_variables: Any) -> dict[str, Any]:
    """A run of a deployment of a flow in tests/worker/flows, mounted at /flows in the test image's container."""
    flow_name = entrypoint.split(":")[1]
    flow_id = api.post("/flows/", json={"name": flow_name}).json()["id"]
    created = api.post(
        "/deployments/",
        json={
            "name": f"{flow_name}-{uuid.uuid4().hex[:8]}",
            "flow_id": flow_id,
            "work_pool_name": POOL,
            "entrypoint": entrypoint,
            "path": "/flows",
            "parameters": parameters,
            "pull_steps": [{"prefect.deployments.steps.set_working_directory": {"directory": "/flows"}}],
            "job_variables": {
                "image": IMAGE,
                "image_pull_policy": "Never",
                "volumes": [f"{FLOWS_DIR}:/flows:ro"],
                **job_variables,
            },
        },
    )
    assert created.status_code == 201, created.text
    response = api.post(f"/deployments/{created.json()['id']}/create_flow_run", json={})
    assert response.status_code == 201, response.text
    return response.json()


def _wait_for(api: httpx.Client, run_id: str, types: tuple[str, ...], log: Path) -> dict[str, Any]:
    run: dict[str, Any] = {}

    def reached() -> bool:
        run.update(api.get(f"/flow_runs/{run_id}").json())
        return run["state_type"] in types

    if not _until(reached, RUN_TIMEOUT_SECONDS):
        pytest.fail(f"the flow run stayed {run['state_name']!r}, waiting for {types}.\n{tail(log)}")
    return run


def _log_messages(api: httpx.Client, run_id: str) -> list[str]:
    body = {"logs": {"flow_run_id": {"any_": [run_id]}}, "sort": "TIMESTAMP_ASC"}
    return [f"{entry['name']}: {entry['message']}" for entry in api.post("/logs/filter", json=body).json()]


def _states(api: httpx.Client, run_id: str) -> list[str]:
    return [state["name"] for state in api.get("/flow_run_states/", params={"flow_run_id": run_id}).json()]


def test_a_deployment_runs_in_a_container_with_its_job_variables(
    api: httpx.Client, worker_log: Path, docker_client: docker.DockerClient
) -> None:
    name = f"shout-{uuid.uuid4().hex[:8]}"
    run = _run(
        api,
        "container_flows.py:shout",
        {"word": "hello"},
        env={"GREETING": "Bonjour"},
        labels={"team": "data"},
        name=name,
    )
    finished = _wait_for(api, run["id"], ("COMPLETED", "FAILED", "CRASHED"), worker_log)
    assert finished["state_type"] == "COMPLETED", (finished["state"], tail(worker_log))
    assert _states(api, run["id"]) == ["Scheduled", "Pending", "Running", "Completed"]
    assert finished["labels"]["prefect.worker.type"] == "docker"
    # The print reaches the run's logs only through the worker's copy of the container's output; the output is all
    # sent before the worker sees the container exit, and the engine reports Completed before it exits.
    assert _until(lambda: f"{OUTPUT_LOGGER}: Bonjour from the container: hello" in _log_messages(api, run["id"]), 10)
    # The engine's own log lines are stored once (by the engine, which sends its last ones as it exits), not a second
    # time from the container's output.
    _until(lambda: any("Finished in state Completed" in message for message in _log_messages(api, run["id"])), 15)
    messages = _log_messages(api, run["id"])
    assert sum("Finished in state Completed" in message for message in messages) == 1, messages
    container = docker_client.containers.get(finished["infrastructure_pid"])  # auto_remove is off by default
    assert container.name == name and container.image.tags == [f"{IMAGE}:latest"]
    assert container.attrs["State"]["ExitCode"] == 0
    assert container.labels["team"] == "data" and container.labels["io.prefect.flow-run-id"] == run["id"]
    assert container.labels["io.prefect.worker-name"] == WORKER_NAME
    env = dict(item.split("=", 1) for item in container.attrs["Config"]["Env"])
    assert env["GREETING"] == "Bonjour" and env["PREFECT__FLOW_RUN_ID"] == run["id"]
    assert container.attrs["Config"]["Cmd"] == ["prefect", "flow-run", "execute"]
    host_config = container.attrs["HostConfig"]
    assert host_config["AutoRemove"] is False and host_config["NetworkMode"] == "host"
    assert [(m["Source"], m["Destination"], m["RW"]) for m in container.attrs["Mounts"]] == [
        (str(FLOWS_DIR), "/flows", False)
    ]


def test_a_container_that_exits_without_a_final_state_leaves_its_run_crashed(
    api: httpx.Client, worker_log: Path, docker_client: docker.DockerClient
) -> None:
    command = "python -c 'import sys; print(\"about to fail\"); sys.exit(3)'"
    run = _run(api, "container_flows.py:shout", {"word": "never"}, command=command)
    crashed = _wait_for(api, run["id"], ("COMPLETED", "FAILED", "CRASHED"), worker_log)
    assert crashed["state_type"] == "CRASHED", crashed["state"]
    assert crashed["state"]["message"] == "The flow run's docker job exited with code 3."
    assert f"{OUTPUT_LOGGER}: about to fail" in _log_messages(api, run["id"])
    container = docker_client.containers.get(crashed["infrastructure_pid"])
    assert container.attrs["Config"]["Cmd"] == ["python", "-c", 'import sys; print("about to fail"); sys.exit(3)']


def test_a_container_that_cannot_start_leaves_its_run_crashed_and_no_container(
    api: httpx.Client, worker_log: Path, docker_client: docker.DockerClient
) -> None:
    run = _run(api, "container_flows.py:shout", {"word": "never"}, networks=["baton-test-no-such-network"])
    crashed = _wait_for(api, run["id"], ("COMPLETED", "FAILED", "CRASHED"), worker_log)
    assert crashed["state_type"] == "CRASHED", crashed["state"]
    message = crashed["state"]["message"]
    assert message.startswith("The flow run's docker job could not start:") and "baton-test-no-such-network" in message
    assert docker_client.containers.list(all=True, filters={"label": f"io.prefect.flow-run-id={run['id']}"}) == []


def test_cancelling_a_running_run_stops_and_removes_its_container(
    api: httpx.Client, worker_log: Path, docker_client: docker.DockerClient
) -> None:
    run = _run(api, "container_flows.py:nap", {"seconds": 120}, auto_remove=True)
    running = _wait_for(api, run["id"], ("RUNNING", "COMPLETED", "FAILED", "CRASHED"), worker_log)
    assert running["state_type"] == "RUNNING", running["state"]
    container = docker_client.containers.get(running["infrastructure_pid"])
    assert container.status == "running" and container.attrs["HostConfig"]["AutoRemove"] is True
    response = api.post(f"/flow_runs/{run['id']}/set_state", json={"state": {"type": "CANCELLING"}})
    assert response.json()["status"] == "ACCEPT", response.text
    cancelled = _wait_for(api, run["id"], ("CANCELLED", "CRASHED", "COMPLETED"), worker_log)
    assert cancelled["state_type"] == "CANCELLED", cancelled["state"]
    # On the host network the engine reached the worker's control channel, so it reported Cancelled, not a crash.
    assert "Crashed" not in _states(api, run["id"])

    def removed() -> bool:
        try:
            docker_client.containers.get(container.id)
        except docker.errors.NotFound:
            return True
        return False

    assert _until(removed, 15), docker_client.containers.get(container.id).status


def test_container_settings_from_job_variables() -> None:
    run = {"id": "0b6f2c1e-aaaa-bbbb-cccc-000000000000", "name": "witty/otter"}
    settings = container_settings({"networks": ["a", "b"], "command": "prefect version"}, run, "http://127.0.0.1:1/api")
    assert settings["network"] == "a" and settings["extra_networks"] == ["b"] and "network_mode" not in settings
    assert settings["name"] == "witty-otter" and settings["command"] == ["prefect", "version"]
    assert settings["image"] == DOCKER_BASE_JOB_TEMPLATE["variables"]["properties"]["image"]["default"]
    assert container_settings({}, run, "http://baton.internal:4200/api").get("network_mode") is None
    assert container_settings({}, run, "http://localhost:4200/api")["network_mode"] == "host"
    with pytest.raises(JobNotStarted, match="image_pull_policy must be one of IfNotPresent, Always, Never"):
        container_settings({"image_pull_policy": "Sometimes"}, run, "http://localhost/api")
    with pytest.raises(JobNotStarted, match="volumes must be a list of strings"):
        container_settings({"volumes": "/a:/b"}, run, "http://localhost/api")


def test_a_missing_image_with_pull_policy_never_is_not_pulled(docker_client: docker.DockerClient) -> None:
    with pytest.raises(JobNotStarted, match="is not on this machine and image_pull_policy is Never"):
        ensure_image(docker_client, "baton-test-no-such-image:1", "Never")
    ensure_image(docker_client, IMAGE, "IfNotPresent")  # present: no pull (which would fail with no registry)
