"""compose.yaml run for real: the whole stack (PostgreSQL, Redis, the migration, two API replicas behind nginx and the
actor workers) comes up healthy in real containers, and a flow run with the official Prefect client through the
proxy completes, its task runs (reported over the events websocket, through the proxy) in the API.

Registry images cannot be pulled here, so the stack runs on local stand-ins built from Debian's packages and on
Baton's image built from the Dockerfile (tests/compose_stack/local_images.py), tagged by content and kept between
runs. It takes a minute or more even with the images cached, so it runs only when BATON_TEST_COMPOSE_STACK=1, which
scripts/test (the README's test command, and so CI) sets.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.acceptance.conftest import ApiServer, _free_port, flow_script
from tests.compose_stack.local_images import DEBOOTSTRAP_BASE, ROOT, build_stack_images, image_exists

pytestmark = [
    pytest.mark.slow,
    # Building the images from nothing takes minutes (a few seconds once they are cached).
    pytest.mark.timeout(1200),
    pytest.mark.skipif(
        os.environ.get("BATON_TEST_COMPOSE_STACK") != "1",
        reason="the compose stack test runs with BATON_TEST_COMPOSE_STACK=1 (scripts/test sets it)",
    ),
]

COMPOSE_FILES = (ROOT / "compose.yaml", Path(__file__).parent / "compose.test.yaml")
ADMIN_KEY = f"baton_stack-{uuid.uuid4().hex}"
LONG_RUNNING_SERVICES = ("postgres", "redis", "api-1", "api-2", "proxy", "services")
HEALTHY_TIMEOUT_SECONDS = 180.0
COMPOSE_TIMEOUT_SECONDS = 300


@dataclass(frozen=True)
class Stack:
    """A running compose project: how to reach it through the proxy, and how to run docker-compose on it."""

    project: str
    api_url: str
    environment: dict[str, str]

    def compose(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        files = [argument for path in COMPOSE_FILES for argument in ("--file", str(path))]
        return subprocess.run(
            [*compose_command(), "--project-name", self.project, *files, *args],
            env=self.environment,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=COMPOSE_TIMEOUT_SECONDS,
            check=check,
        )

    def health(self) -> dict[str, str]:
        """Each service's container state: its health where it has a health check (starting, healthy, unhealthy),
        else its status (running, exited...)."""
        containers = self.compose("ps", "--quiet", check=False).stdout.split()
        inspected = subprocess.run(
            ["docker", "inspect", "--format", "{{json .}}", *containers], capture_output=True, text=True
        )
        states = dict.fromkeys(LONG_RUNNING_SERVICES, "missing")
        for line in inspected.stdout.splitlines() if containers else []:
            container = json.loads(line)
            service = container["Config"]["Labels"]["com.docker.compose.service"]
            state = container["State"]
            states[service] = (state.get("Health") or {}).get("Status") or state["Status"]
        return states


def compose_command() -> list[str]:
    """Compose v2 (`docker compose`) where the engine has it, else docker-compose 1.29 (Debian's package)."""
    if subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    pytest.skip("neither `docker compose` nor `docker-compose` is installed (bash scripts/docker.sh installs it)")


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    if shutil.which("docker") is None or subprocess.run(["docker", "info"], capture_output=True).returncode != 0:
        pytest.skip("no Docker engine (bash scripts/docker.sh starts one)")
    compose_command()
    if not image_exists(DEBOOTSTRAP_BASE):
        pytest.skip(f"no image {DEBOOTSTRAP_BASE!r} to build on (bash scripts/docker.sh builds it)")
    images = build_stack_images()
    port = _free_port()
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith(("BATON_", "PREFECT_", "POSTGRES_"))
    }
    environment.update(images.compose_variables(), BATON_ADMIN_KEY=ADMIN_KEY, BATON_HTTP_PORT=str(port))
    running = Stack(f"baton-stack-{uuid.uuid4().hex[:8]}", f"http://127.0.0.1:{port}/api", environment)
    try:
        up = running.compose("up", "--detach", "--no-build", check=False)
        assert up.returncode == 0, f"compose up failed:\n{up.stdout}\n{up.stderr}\n{logs(running)}"
        wait_until_healthy(running)
        yield running
    finally:
        running.compose("down", "--volumes", "--remove-orphans", "--timeout", "5", check=False)


def logs(stack: Stack) -> str:
    return stack.compose("logs", "--no-color", "--tail", "40", check=False).stdout


def wait_until_healthy(stack: Stack) -> None:
    deadline = time.monotonic() + HEALTHY_TIMEOUT_SECONDS
    while True:
        states = stack.health()
        if all(states[service] == "healthy" for service in LONG_RUNNING_SERVICES):
            return
        failed = [service for service in LONG_RUNNING_SERVICES if states[service] in {"unhealthy", "exited", "dead"}]
        if failed or time.monotonic() > deadline:
            pytest.fail(f"the stack did not come up healthy: {states}\n{logs(stack)}")
        time.sleep(0.5)


def test_every_long_running_service_is_healthy_and_the_migration_succeeded(stack: Stack) -> None:
    states = stack.health()
    assert states == {**dict.fromkeys(LONG_RUNNING_SERVICES, "healthy"), "migrate": "exited"}
    migrate = stack.compose("ps", "--quiet", "migrate").stdout.strip()
    exit_code = subprocess.run(
        ["docker", "inspect", "--format", "{{.State.ExitCode}}", migrate], capture_output=True, text=True, check=True
    )
    assert exit_code.stdout.strip() == "0"


def test_the_proxy_requires_a_key_and_answers_the_ready_probe(stack: Stack) -> None:
    assert httpx.get(f"{stack.api_url}/ready", timeout=10).json() == {"message": "OK"}
    assert httpx.post(f"{stack.api_url}/flows/filter", json={}, timeout=10).status_code == 401


def test_a_flow_through_the_proxy_completes_with_its_task_runs(stack: Stack, tmp_path: Path) -> None:
    # The auth string, not PREFECT_API_KEY: the client sends only the auth string over the events websocket.
    auth_string = f"bootstrap-admin:{ADMIN_KEY}"
    completed = flow_script(
        ApiServer(stack.api_url, ""), tmp_path, "tasks_that_log", PREFECT_API_AUTH_STRING=auth_string
    )
    assert completed.returncode == 0, f"{completed.stdout}\n{completed.stderr}\n{logs(stack)}"
    outcome = json.loads(completed.stdout.strip().splitlines()[-1])
    headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
    with httpx.Client(base_url=stack.api_url, headers=headers, timeout=10) as api:
        flow_run = api.get(f"/flow_runs/{outcome['flow_run_id']}").json()
        assert flow_run["state"]["type"] == "COMPLETED"
        # Task run states arrive as events over the client's websocket, recorded by the actor workers: poll.
        deadline = time.monotonic() + 60
        while True:
            task_runs = api.post(
                "/task_runs/filter", json={"flow_runs": {"id": {"any_": [outcome["flow_run_id"]]}}}
            ).json()
            states = sorted((task_run["id"], (task_run.get("state") or {}).get("type")) for task_run in task_runs)
            if states == sorted((task_run_id, "COMPLETED") for task_run_id in outcome["result"]):
                break
            assert time.monotonic() < deadline, f"task runs never all completed: {states}\n{logs(stack)}"
            time.sleep(0.5)


def test_the_proxy_keeps_answering_with_one_api_replica_stopped(stack: Stack) -> None:
    # The module's last test: the stack is torn down after it.
    stack.compose("stop", "--timeout", "5", "api-1")
    headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
    with httpx.Client(base_url=stack.api_url, headers=headers, timeout=30) as api:
        # More requests than replicas: nginx would send some to api-1 if it did not pass them on to api-2.
        statuses = [api.post("/flows/filter", json={}).status_code for _ in range(6)]
    assert statuses == [200] * 6
