"""Background tasks with the official client: `.delay()` schedules a task run, a `prefect task serve` process runs
it, and the caller's `.result()` gets its value back. The same file passes against Prefect's own server
(BATON_ACCEPTANCE_SERVER=prefect), except the Redis-mode test, which is Baton's deployment shape.

One server for the module, on one database: the task runs' SQL is covered on both by the server tests.
"""

from __future__ import annotations

import base64
import json
import pickle
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.acceptance.conftest import (
    SERVER_KIND,
    ApiServer,
    _prefect_server,
    baton_server,
    baton_server_on_fresh_database,
    clean_environ,
    local_file_system_block,
    tail,
)
from tests.acceptance.prefect_cli import run_cli
from tests.acceptance.process_groups import ProcessGroup
from tests.databases import SINGLE_DIALECT, TemplateDatabases
from tests.redis_namespaces import REDIS_URL, delete_namespace, new_namespace

# Every test here starts prefect processes (about 2 s of CPU each) and runs tasks through them: minutes on a loaded
# machine.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(400)]

FLOWS = Path(__file__).parent / "flows"
TASKS = FLOWS / "background_tasks.py"
PREFECT = str(Path(sys.executable).parent / "prefect")
# A task worker imports prefect and subscribes within a few seconds; a loaded machine may take several times that.
WORKER_START_SECONDS = 60.0
# A caller script imports prefect, submits, and (for `square`) waits for results.
CALLER_TIMEOUT_SECONDS = 180.0
# The burst: runs, and how many markers must exist before one worker is killed.
BURST = 200
KILL_AFTER = 50
# Prefect's default `prefect task serve --limit`.
WORKER_LIMIT = 10


@pytest.fixture(scope="module")
def server(template_databases: TemplateDatabases, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServer]:
    if SERVER_KIND == "baton":
        yield from baton_server_on_fresh_database(SINGLE_DIALECT, template_databases, tmp_path_factory)
    else:
        yield from _prefect_server(tmp_path_factory.mktemp("prefect-home"))


def _client_env(api_url: str, home: Path) -> dict[str, str]:
    """Callers and workers share PREFECT_HOME: the parameters and results are files in its local storage."""
    return clean_environ(
        PREFECT_API_URL=api_url,
        PREFECT_HOME=str(home),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW="ignore",
        PYTHONUNBUFFERED="1",
        COLUMNS="300",
    )


class TaskWorkers(ProcessGroup):
    """`prefect task serve` subprocesses, each in its own session and with its own log."""

    def start(self, task_name: str) -> tuple[subprocess.Popen[bytes], Path]:
        command = [PREFECT, "task", "serve", f"{TASKS}:{task_name}", "--limit", str(WORKER_LIMIT)]
        return self.launch(command, "worker")

    def stop_all(self) -> None:
        for process, _log in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process, _log in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill(process)


@pytest.fixture
def workers(server: ApiServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TaskWorkers]:
    home = tmp_path_factory.mktemp("prefect-client")
    group = TaskWorkers(_client_env(server.api_url, home), home)
    yield group
    group.stop_all()


def _wait_for_workers(api: httpx.Client, task_prefix: str, count: int, group: TaskWorkers) -> list[dict[str, Any]]:
    """The task workers listed for a task whose key starts with `task_prefix`, once there are `count` of them."""
    deadline = time.monotonic() + WORKER_START_SECONDS
    while time.monotonic() < deadline:
        listed = api.post("/task_workers/filter", json={}).json()
        serving = [worker for worker in listed if any(key.startswith(task_prefix) for key in worker["task_keys"])]
        if len(serving) >= count:
            return serving
        time.sleep(0.2)
    logs = "\n".join(tail(log, 3000) for _process, log in group.processes)
    pytest.fail(f"{count} task workers for {task_prefix} were not listed within {WORKER_START_SECONDS} s.\n{logs}")


def _run_caller(env: dict[str, str], workdir: Path, *args: str) -> dict[str, Any]:
    completed = subprocess.run(
        [sys.executable, str(TASKS), *args],
        env=env,
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=CALLER_TIMEOUT_SECONDS,
    )
    lines = completed.stdout.strip().splitlines()
    assert completed.returncode == 0 and lines, f"caller exited {completed.returncode}:\n{completed.stderr[-4000:]}"
    return dict(json.loads(lines[-1]))


def _task_runs(api: httpx.Client, ids: list[str]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(ids), 100):
        chunk = ids[start : start + 100]
        body = {"task_runs": {"id": {"any_": chunk}}, "limit": len(chunk)}
        response = api.post("/task_runs/filter", json=body)
        assert response.status_code == 200, response.text
        found.update({run["id"]: run for run in response.json()})
    return found


def _check_square(api_url: str, workers: TaskWorkers) -> dict[str, Any]:
    with httpx.Client(base_url=api_url, timeout=10.0) as api:
        workers.start("square")
        listed = _wait_for_workers(api, "square", 1, workers)
        outcome = _run_caller(workers.env, workers.workdir, "square", "3")
        runs = _task_runs(api, outcome["task_run_ids"])
    assert outcome["results"] == [0, 1, 4]
    assert sorted(run["state"]["type"] for run in runs.values()) == ["COMPLETED"] * 3
    assert {run["flow_run_id"] for run in runs.values()} == {None}
    worker = listed[0]
    assert set(worker) == {"identifier", "task_keys", "timestamp"} and worker["identifier"]
    return outcome


@pytest.fixture(scope="module")
def squared(server: ApiServer, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Three `.delay()`ed runs served by one `prefect task serve`, with their results (shared with the CLI test)."""
    home = tmp_path_factory.mktemp("prefect-client")
    group = TaskWorkers(_client_env(server.api_url, home), home)
    try:
        return _check_square(server.api_url, group)
    finally:
        group.stop_all()


def test_a_delayed_task_runs_on_a_task_serve_process_and_its_result_comes_back(squared: dict[str, Any]) -> None:
    assert squared["results"] == [0, 1, 4] and len(set(squared["task_run_ids"])) == 3


def test_delayed_tasks_keep_parameters_and_results_in_the_server_default_storage(
    server: ApiServer, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """With a server-wide default result storage (`prefect experimental result-storage set`), the workers' result
    records are files in that block's folder."""
    storage = tmp_path_factory.mktemp("default-results")
    home = tmp_path_factory.mktemp("prefect-client")
    with httpx.Client(base_url=server.api_url, timeout=10.0) as api:
        document = local_file_system_block(api, "background-results", storage)
        answer = api.put("/admin/storage", json={"default_result_storage_block_id": document["id"]})
        assert answer.status_code == 200, answer.text
        group = TaskWorkers(_client_env(server.api_url, home), home)
        try:
            outcome = _check_square(server.api_url, group)
        finally:
            group.stop_all()
            api.delete("/admin/storage")
    assert outcome["results"] == [0, 1, 4]
    # One result record per run, written by the worker into the block's folder and naming the block (as against
    # Prefect's own server, where the same three files appear).
    records = [json.loads(path.read_text()) for path in storage.rglob("*") if path.is_file()]
    assert len(records) == 3, records
    assert {record["metadata"]["storage_block_id"] for record in records} == {document["id"]}
    # The default serializer pickles: the values the test's own tasks returned.
    assert sorted(pickle.loads(base64.b64decode(record["result"])) for record in records) == [0, 1, 4]


def test_task_and_task_run_commands_exit_as_against_prefect(
    server: ApiServer, squared: dict[str, Any], tmp_path: Path
) -> None:
    run_id, unknown = squared["task_run_ids"][0], "00000000-0000-4000-8000-000000000000"
    commands = [
        (["task-run", "ls"], 0, "square"),
        (["task-run", "ls", "-o", "json", "--state-type", "COMPLETED"], 0, run_id),
        (["task-run", "inspect", run_id], 0, run_id),
        (["task-run", "inspect", run_id, "-o", "json"], 0, '"task_key": "square'),
        (["task-run", "logs", run_id], 0, ""),
        (["task-run", "inspect", unknown], 1, "not found"),
        (["task-run", "logs", unknown], 1, "not found"),
        (["task", "serve"], 1, "You must provide"),
    ]
    ran = run_cli(server, tmp_path, [args for args, _, _ in commands])
    for (_, code, shown), result in zip(commands, ran, strict=True):
        result.exits(code, shown)


def test_two_workers_share_a_burst_and_one_killed_loses_only_what_it_had_taken(
    server: ApiServer, workers: TaskWorkers
) -> None:
    """200 runs between two workers, one SIGKILLed in the middle: each run starts at most once (a second start of
    one fails on its marker file), every run the killed worker had not received is run by the survivor, and the
    killed worker had received at most what its limit lets it hold."""
    markers = workers.workdir / "markers"
    markers.mkdir()
    with httpx.Client(base_url=server.api_url, timeout=10.0) as api:
        doomed, doomed_log = workers.start("record")
        survivor, _ = workers.start("record")
        _wait_for_workers(api, "record", 2, workers)
        caller = subprocess.Popen(
            [sys.executable, str(TASKS), "burst", str(BURST), str(markers)],
            env=workers.env,
            cwd=workers.workdir,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + CALLER_TIMEOUT_SECONDS
        while len(list(markers.iterdir())) < KILL_AFTER and time.monotonic() < deadline and caller.poll() is None:
            time.sleep(0.05)
        workers.kill(doomed)
        stdout, stderr = caller.communicate(timeout=CALLER_TIMEOUT_SECONDS)
        assert caller.returncode == 0, stderr.decode()[-4000:]
        ids: list[str] = json.loads(stdout.decode().strip().splitlines()[-1])["task_run_ids"]
        received_by_doomed = set(re.findall(r"Received task run: ([0-9a-f-]{36})", doomed_log.read_text()))
        deadline = time.monotonic() + CALLER_TIMEOUT_SECONDS
        while True:
            runs = _task_runs(api, ids)
            done = {run_id for run_id, run in runs.items() if run["state"]["type"] == "COMPLETED"}
            unaccounted = set(ids) - done - received_by_doomed
            if not unaccounted or time.monotonic() > deadline:
                break
            time.sleep(0.5)
    assert survivor.poll() is None, "the surviving worker died"
    assert len(ids) == len(set(ids)) == BURST
    assert not unaccounted, f"{len(unaccounted)} runs never ran: {sorted(unaccounted)[:5]}"
    states = sorted({run["state"]["type"] for run in runs.values()})
    assert set(states) <= {"COMPLETED", "PENDING", "RUNNING", "SCHEDULED"}, states
    lost = set(ids) - done
    assert len(lost) <= WORKER_LIMIT + 1, f"the killed worker held {len(lost)} runs"
    pids = {marker.name: marker.read_text() for marker in markers.iterdir()}
    for index, run_id in enumerate(ids):
        if run_id in done:
            assert pids.get(str(index)), f"run {index} completed without its marker"
    assert {pids[str(index)] for index, run_id in enumerate(ids) if run_id in done} >= {str(survivor.pid)}


@pytest.mark.skipif(SERVER_KIND != "baton", reason="Redis mode is Baton's own deployment shape")
def test_a_task_scheduled_through_one_api_process_runs_on_a_worker_connected_to_another(
    template_databases: TemplateDatabases, tmp_path_factory: pytest.TempPathFactory
) -> None:
    from tests.acceptance.test_redis_mode import Services, _services_env

    namespace = new_namespace()
    settings = {"BATON_REDIS_URL": REDIS_URL, "BATON_REDIS_NAMESPACE": namespace}
    url = template_databases.clone(SINGLE_DIALECT, tmp_path_factory.mktemp("baton-db"))
    services_dir = tmp_path_factory.mktemp("services")
    group = Services(_services_env(url, settings, services_dir), services_dir)
    try:
        group.start("--processes", "1", "--threads", "2")
        for caller_side in baton_server(tmp_path_factory.mktemp("baton-home"), url, **settings):
            for worker_side in baton_server(tmp_path_factory.mktemp("baton-home"), url, **settings):
                home = tmp_path_factory.mktemp("prefect-client")
                worker_group = TaskWorkers(_client_env(worker_side.api_url, home), home)
                try:
                    worker_group.start("square")
                    with httpx.Client(base_url=caller_side.api_url, timeout=10.0) as api:
                        # The caller's process lists the worker connected to the other one.
                        _wait_for_workers(api, "square", 1, worker_group)
                    outcome = _run_caller(_client_env(caller_side.api_url, home), home, "square", "3")
                finally:
                    worker_group.stop_all()
                assert outcome["results"] == [0, 1, 4]
                received = re.findall(r"Received task run: ([0-9a-f-]{36})", worker_group.processes[0][1].read_text())
                assert sorted(received) == sorted(outcome["task_run_ids"])
    finally:
        group.stop_all()
        template_databases.drop(url)
        delete_namespace(namespace)
