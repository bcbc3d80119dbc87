"""The official Prefect client against two workspaces at once: with PREFECT_API_URL at each workspace's URL, a flow
with tasks runs in each (its task runs arrive over the workspace's events websocket), and each workspace sees only
its own runs, task runs and logs; the default workspace at /api sees none of them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from baton.server.workspaces import DEFAULT_ACCOUNT_ID
from tests.acceptance.conftest import SERVER_KIND, ApiServer, baton_server_on_fresh_database, flow_script
from tests.acceptance.task_runs import wait_for_task_runs
from tests.acceptance.worker_runs import check_baton_worker_completes_a_run, check_prefect_worker_completes_a_run
from tests.databases import TemplateDatabases

pytestmark = [
    pytest.mark.skipif(SERVER_KIND != "baton", reason="workspaces at these URLs are Baton's"),
    # Two Prefect client processes at once, each starting up and running a flow.
    pytest.mark.timeout(300),
]

ONE_DATABASE = "postgresql"


@pytest.fixture(scope="module")
def server(template_databases: TemplateDatabases, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServer]:
    yield from baton_server_on_fresh_database("postgresql", template_databases, tmp_path_factory)


def test_flows_run_in_two_workspaces_at_once_and_each_sees_only_its_own(server: ApiServer, tmp_path: Path) -> None:
    with httpx.Client(base_url=server.api_url, timeout=30.0) as api:
        workspaces = {
            name: api.post("/workspaces/", json={"name": name}).raise_for_status().json()["id"] for name in ("a", "b")
        }
    urls = {
        name: f"{server.api_url}/accounts/{DEFAULT_ACCOUNT_ID}/workspaces/{workspace_id}"
        for name, workspace_id in workspaces.items()
    }

    def run(name: str) -> str:
        workdir = tmp_path / name
        workdir.mkdir()
        workspace_server = ApiServer(api_url=urls[name], database_url=server.database_url)
        completed = flow_script(workspace_server, workdir, "tasks_that_log")
        assert completed.returncode == 0, completed.stderr[-4000:]
        return str(json.loads(completed.stdout.strip().splitlines()[-1])["flow_run_id"])

    with ThreadPoolExecutor(max_workers=2) as pool:
        flow_run_ids = dict(zip(urls, pool.map(run, urls), strict=True))

    for name, url in urls.items():
        other = "b" if name == "a" else "a"
        with httpx.Client(base_url=url, timeout=30.0) as api:
            own = flow_run_ids[name]
            assert api.get(f"/flow_runs/{own}").json()["state_type"] == "COMPLETED"
            assert len(wait_for_task_runs(api, own, 3)) == 3
            runs = api.post("/flow_runs/filter", json={}).json()
            assert [run["id"] for run in runs] == [own]
            logs = api.post("/logs/filter", json={}).json()
            assert logs and {log["flow_run_id"] for log in logs} == {own}
            assert api.get(f"/flow_runs/{flow_run_ids[other]}").status_code == 404
            others = {"flow_runs": {"id": {"any_": [flow_run_ids[other]]}}}
            assert api.post("/task_runs/filter", json=others).json() == []

    with httpx.Client(base_url=server.api_url, timeout=30.0) as api:
        assert api.post("/flow_runs/filter", json={}).json() == []
        assert api.post("/task_runs/filter", json={}).json() == []
        assert api.post("/flows/filter", json={}).json() == []


def test_prefect_workers_run_deployments_in_two_workspaces_at_once_each_in_its_own(
    server: ApiServer, tmp_path: Path
) -> None:
    """A pool of the same name in two workspaces, an official `prefect worker` polling each through its workspace's
    URL: each worker runs its own workspace's deployment run (over the workspace's worker channel), and each
    workspace sees one worker and one run, its own."""
    with httpx.Client(base_url=server.api_url, timeout=30.0) as api:
        workspaces = {
            name: api.post("/workspaces/", json={"name": name}).raise_for_status().json()["id"]
            for name in ("deploy-a", "deploy-b")
        }
    urls = {
        name: f"{server.api_url}/accounts/{DEFAULT_ACCOUNT_ID}/workspaces/{workspace_id}"
        for name, workspace_id in workspaces.items()
    }

    def run(name: str) -> str:
        workdir = tmp_path / name
        workdir.mkdir()
        with httpx.Client(base_url=urls[name], timeout=30.0) as api:
            workspace_server = ApiServer(api_url=urls[name], database_url=server.database_url)
            finished = check_prefect_worker_completes_a_run(api, workspace_server, "shared-pool", workdir)
        return str(finished["id"])

    with ThreadPoolExecutor(max_workers=2) as pool:
        flow_run_ids = dict(zip(urls, pool.map(run, urls), strict=True))

    for name, url in urls.items():
        with httpx.Client(base_url=url, timeout=30.0) as api:
            assert [each["id"] for each in api.post("/flow_runs/filter", json={}).json()] == [flow_run_ids[name]]
            assert len(api.post("/work_pools/shared-pool/workers/filter", json={}).json()) == 1
            assert len(api.post("/deployments/filter", json={}).json()) == 1
    with httpx.Client(base_url=server.api_url, timeout=30.0) as api:
        assert api.get("/work_pools/shared-pool").status_code == 404


def test_baton_worker_serves_the_workspace_baton_workspace_names(server: ApiServer, tmp_path: Path) -> None:
    """`baton worker start` with BATON_API_URL at /api and BATON_WORKSPACE set polls that workspace's pool and runs
    its deployment there (the flow run reports to the workspace too)."""
    with httpx.Client(base_url=server.api_url, timeout=30.0) as api:
        workspace_id = api.post("/workspaces/", json={"name": "baton-worker"}).raise_for_status().json()["id"]
    url = f"{server.api_url}/accounts/{DEFAULT_ACCOUNT_ID}/workspaces/{workspace_id}"
    with httpx.Client(base_url=url, timeout=30.0) as api:
        finished = check_baton_worker_completes_a_run(api, server, "team-pool", tmp_path, BATON_WORKSPACE=workspace_id)
        assert [each["id"] for each in api.post("/flow_runs/filter", json={}).json()] == [finished["id"]]
    with httpx.Client(base_url=server.api_url, timeout=30.0) as api:
        assert api.get("/work_pools/team-pool").status_code == 404
