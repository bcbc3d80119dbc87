"""The official `prefect` CLI's work-pool, work-queue and worker commands, typed as a user types them, exit as they
do against Prefect's own server (run this module with BATON_ACCEPTANCE_SERVER=prefect to check that).

Each test runs its group's commands in one `prefect` process (tests/acceptance/cli_commands.py), so prefect
is imported once per group. Each command is (command line, exit code, text its output must hold).
"""

from __future__ import annotations

import shlex
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.acceptance.conftest import (
    SERVER_KIND,
    ApiServer,
    _prefect_server,
    _run_flow_script,
    baton_server_on_fresh_database,
    created,
    local_file_system_block,
)
from tests.acceptance.prefect_cli import run_cli
from tests.databases import SINGLE_DIALECT, TemplateDatabases

pytestmark = pytest.mark.slow


Step = tuple[str, int, str]


@pytest.fixture(scope="module")
def cli_server(template_databases: TemplateDatabases, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServer]:
    """One server for the module, on one database: the SQL behind these routes runs on both in
    tests/server/api/test_work_pool_status.py and test_work_pools.py."""
    if SERVER_KIND == "baton":
        yield from baton_server_on_fresh_database(SINGLE_DIALECT, template_databases, tmp_path_factory)
    else:
        yield from _prefect_server(tmp_path_factory.mktemp("prefect-home"))


def run_steps(server: ApiServer, workdir: Path, steps: list[Step]) -> None:
    """Run every command of `steps` in one prefect process; fail naming each command that exited otherwise or did
    not print its text."""
    results = run_cli(server, workdir, [shlex.split(line) for line, _, _ in steps])
    failures = [
        f"prefect {line} exited {result.exit_code} (expected {code}), output lacks {text!r}:\n{result.output}"
        for (line, code, text), result in zip(steps, results, strict=True)
        if result.exit_code != code or text not in result.output
    ]
    assert not failures, "\n\n".join(failures)


def running_run(api: httpx.Client, pool: str, queue: str, run_name: str) -> None:
    """A pool with a queue holding one Running flow run called `run_name`, made over the API."""
    created(api, "/work_pools/", {"name": pool, "type": "process"})
    flow = created(api, "/flows/", {"name": f"{pool}-flow"})
    deployment = created(
        api,
        "/deployments/",
        {"flow_id": flow["id"], "name": f"{pool}-dep", "work_pool_name": pool, "work_queue_name": queue},
    )
    run = created(api, f"/deployments/{deployment['id']}/create_flow_run", {"name": run_name})
    state = api.post(f"/flow_runs/{run['id']}/set_state", json={"state": {"type": "RUNNING"}, "force": True})
    assert state.status_code in (200, 201), state.text


def test_work_pool_commands(cli_server: ApiServer, tmp_path: Path) -> None:
    with httpx.Client(base_url=cli_server.api_url, timeout=10.0) as api:
        running_run(api, "cli-busy-pool", "busy-q", "slot-holder-run")
    run_steps(
        cli_server,
        tmp_path,
        [
            ("work-pool create cli-proc --type process", 0, "Created work pool 'cli-proc'"),
            ("work-pool create cli-docker --type docker", 0, "Created work pool 'cli-docker'"),
            ("work-pool create cli-proc --type process", 1, "Work pool named 'cli-proc' already exists"),
            ("work-pool create cli-nope --type no-such-type", 1, "Unknown work pool type 'no-such-type'"),
            ("work-pool get-default-base-job-template --type process", 0, '"job_configuration"'),
            ("work-pool get-default-base-job-template --type docker", 0, '"image_pull_policy"'),
            ("work-pool get-default-base-job-template --type no-such-type", 1, "Unknown work pool type"),
            ("work-pool ls", 0, "cli-docker"),
            ("work-pool inspect cli-docker", 0, "image_pull_policy"),
            ("work-pool inspect cli-missing", 1, "Work pool 'cli-missing' not found!"),
            ("work-pool pause cli-proc", 0, "Paused work pool 'cli-proc'"),
            ("work-pool resume cli-proc", 0, "Resumed work pool 'cli-proc'"),
            ("work-pool set-concurrency-limit cli-proc 3", 0, "Set concurrency limit for work pool 'cli-proc' to 3"),
            ("work-pool clear-concurrency-limit cli-proc", 0, "Cleared concurrency limit for work pool 'cli-proc'"),
            ("work-pool update cli-proc --description local", 0, "Updated work pool 'cli-proc'"),
            ("work-pool slots cli-proc", 0, "No flow runs occupying slots."),
            ("work-pool slots cli-busy-pool", 0, "slot-holder-run"),
            ("work-pool slots cli-busy-pool -o json", 0, '"active_slots": 1'),
            ("work-pool slots cli-missing", 1, "Work pool 'cli-missing' not found!"),
            ("work-pool preview cli-proc --hours 1", 0, ""),
            ("work-pool delete cli-docker", 0, "Deleted work pool 'cli-docker'"),
            ("work-pool inspect cli-docker", 1, "Work pool 'cli-docker' not found!"),
            ("work-pool delete cli-docker", 1, "Work pool 'cli-docker' does not exist."),
        ],
    )


def test_work_queue_commands(cli_server: ApiServer, tmp_path: Path) -> None:
    with httpx.Client(base_url=cli_server.api_url, timeout=10.0) as api:
        running_run(api, "cli-queue-pool", "held-q", "queue-slot-run")
    pool = "--pool cli-queue-pool"
    run_steps(
        cli_server,
        tmp_path,
        [
            ("work-queue create cli-legacy", 0, "work pool - 'default-agent-pool'"),
            ("work-queue create cli-legacy", 1, "Work queue with name: 'cli-legacy' already exists."),
            (f"work-queue create cli-q {pool} --limit 2 --priority 1", 0, "concurrency limit - 2"),
            ("work-queue create cli-q --pool cli-missing", 1, "Work pool with name: 'cli-missing' not found."),
            ("work-queue ls", 0, "cli-legacy"),
            (f"work-queue ls {pool}", 0, "cli-q"),
            ("work-queue inspect cli-legacy", 0, "default-agent-pool"),
            (f"work-queue inspect cli-q {pool}", 0, "cli-queue-pool"),
            ("work-queue inspect cli-missing", 1, "No work queue named 'cli-missing' found."),
            (f"work-queue set-concurrency-limit cli-q 5 {pool}", 0, "Concurrency limit of 5 set on work queue"),
            (f"work-queue clear-concurrency-limit cli-q {pool}", 0, "Concurrency limits removed on work queue"),
            (f"work-queue pause cli-q {pool}", 0, "Work queue 'cli-q' in work pool 'cli-queue-pool' paused"),
            (f"work-queue resume cli-q {pool}", 0, "Work queue 'cli-q' in work pool 'cli-queue-pool' resumed"),
            (f"work-queue slots held-q {pool}", 0, "queue-slot-run"),
            (f"work-queue slots held-q {pool} -o json", 0, '"active_slots": 1'),
            (f"work-queue slots cli-q {pool}", 0, ""),
            (f"work-queue preview cli-q {pool} --hours 1", 0, ""),
            ("work-queue read-runs cli-legacy", 0, ""),
            (f"work-queue delete cli-q {pool}", 0, "Successfully deleted work queue 'cli-q'"),
            (f"work-queue inspect cli-q {pool}", 1, "No work queue named 'cli-q' found in work pool 'cli-queue-pool'."),
        ],
    )


def test_worker_commands(cli_server: ApiServer, tmp_path: Path) -> None:
    with httpx.Client(base_url=cli_server.api_url, timeout=10.0) as api:
        created(api, "/work_queues/", {"name": "cli-agent-queue"})
    run_steps(
        cli_server,
        tmp_path,
        [
            ("worker start --run-once", 1, "Missing required option '--pool'"),
            # The pool is made with the process worker's default template, then polled once.
            ("worker start --pool cli-worker-pool --type process --run-once", 0, "stopped!"),
            ("work-pool inspect cli-worker-pool", 0, "stream_output"),
            ("worker start --pool default-agent-pool --run-once", 1, "'prefect-agent' typed work pools work with"),
            # The docker worker's package is found through the server's worker metadata; not installed, so no start.
            ("worker start --pool cli-docker-worker --type docker --run-once", 1, "Unable to start worker"),
        ],
    )


def test_default_result_storage_commands_and_a_flow_that_uses_it(cli_server: ApiServer, tmp_path: Path) -> None:
    results_dir = tmp_path / "results"
    with httpx.Client(base_url=cli_server.api_url, timeout=10.0) as api:
        document = local_file_system_block(api, "cli-results", results_dir)
    run_steps(
        cli_server,
        tmp_path,
        [
            ("experimental result-storage inspect", 0, "No default result storage is configured."),
            ("experimental result-storage set local-file-system/cli-results", 0, "Set default result storage."),
            ("experimental result-storage inspect -o json", 0, '"block": "local-file-system/cli-results"'),
        ],
    )
    outcome = _run_flow_script(cli_server, tmp_path, "default_storage")
    assert (outcome["result"], outcome["storage_block_id"]) == (42, document["id"])
    assert [path for path in results_dir.iterdir() if path.is_file()], "no result was written to the default storage"
    run_steps(
        cli_server,
        tmp_path,
        [
            ("experimental result-storage clear", 0, "Cleared default result storage."),
            ("experimental result-storage inspect", 0, "No default result storage is configured."),
        ],
    )
