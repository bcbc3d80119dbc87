"""The official `prefect` CLI's listing commands, run as a user runs them (a subprocess with PREFECT_API_URL)
against one Baton server: each exits 0 and lists the object created for it. Each of them posts a filter body to
the server (`flow ls` one with `"sort": null` and `"work_queues": null`)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.acceptance.conftest import ApiServer, clean_environ, created

pytestmark = pytest.mark.slow

PREFECT = str(Path(sys.executable).parent / "prefect")
# Each command imports prefect (about 2 s of CPU); they run side by side.
CLI_TIMEOUT_SECONDS = 90
# Wide enough that rich does not cut the names out of the tables.
TERMINAL_COLUMNS = "400"


def seed(api: httpx.Client) -> dict[str, str]:
    """One object for each listing; the text each command's output must show."""
    flow = created(api, "/flows/", {"name": "cli-flow"})
    pool = created(api, "/work_pools/", {"name": "cli-pool", "type": "process"})
    created(api, "/work_pools/cli-pool/queues", {"name": "cli-queue"})
    created(api, "/deployments/", {"flow_id": flow["id"], "name": "cli-dep", "work_pool_name": pool["name"]})
    created(api, "/flow_runs/", {"flow_id": flow["id"], "name": "cli-run", "state": {"type": "SCHEDULED"}})
    created(api, "/variables/", {"name": "cli_var", "value": 1})
    created(api, "/artifacts/", {"key": "cli-art", "type": "markdown", "data": "# hi"})
    created(api, "/concurrency_limits/", {"tag": "cli-tag", "concurrency_limit": 2})
    created(api, "/v2/concurrency_limits/", {"name": "cli-gcl", "limit": 3})
    block_type = created(api, "/block_types/", {"name": "Cli Block", "slug": "cli-block"})
    schema = created(
        api, "/block_schemas/", {"fields": {"title": "CliBlock", "type": "object"}, "block_type_id": block_type["id"]}
    )
    created(
        api,
        "/block_documents/",
        {"name": "cli-doc", "data": {}, "block_type_id": block_type["id"], "block_schema_id": schema["id"]},
    )
    return {
        "flow ls": "cli-flow",
        "flow-run ls": "cli-run",
        "deployment ls": "cli-flow/cli-dep",
        "work-pool ls": "cli-pool",
        "work-queue ls": "cli-queue",
        "variable ls": "cli_var",
        "block ls": "cli-block/cli-doc",
        "artifact ls": "cli-art",
        "concurrency-limit ls": "cli-tag",
        "global-concurrency-limit ls": "cli-gcl",
    }


def test_listing_commands_exit_0_and_show_what_was_created(cli_server: ApiServer, tmp_path: Path) -> None:
    with httpx.Client(base_url=cli_server.api_url, timeout=10.0) as api:
        expected = seed(api)
    env = clean_environ(
        PREFECT_API_URL=cli_server.api_url,
        PREFECT_HOME=str(tmp_path / "prefect"),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        COLUMNS=TERMINAL_COLUMNS,
    )
    processes = {
        command: subprocess.Popen(
            [PREFECT, *command.split()], env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        for command in expected
    }
    outputs = {command: process.communicate(timeout=CLI_TIMEOUT_SECONDS) for command, process in processes.items()}
    for command, (stdout, _) in outputs.items():
        text = stdout.decode(errors="replace")
        assert processes[command].returncode == 0, f"prefect {command} exited {processes[command].returncode}:\n{text}"
        assert expected[command] in text, f"prefect {command} did not list {expected[command]}:\n{text}"
