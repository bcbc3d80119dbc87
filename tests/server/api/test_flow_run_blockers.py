"""`GET /flow_runs/{id}/blockers` over real HTTP on SQLite and PostgreSQL: one test per kind of blocker.

One server per database for the module: each test makes its own pool, queue, deployment and runs, named after the
test, so that the tests do not see each other's objects.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio
import tornado.httpserver
import tornado.netutil

from baton.server.app import make_app
from baton.server.context import ServerContext
from baton.server.database.engine import Database
from baton.settings import Settings
from tests.databases import ENABLED_DIALECTS, TemplateDatabases

pytestmark = pytest.mark.asyncio(loop_scope="module")

Body = dict[str, Any]


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=ENABLED_DIALECTS)
async def client(
    request: pytest.FixtureRequest, template_databases: TemplateDatabases, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[httpx.AsyncClient]:
    directory = tmp_path_factory.mktemp("blockers")
    url = template_databases.clone(request.param, directory)
    database = Database(url)
    await database.open()
    context = ServerContext(settings=Settings(home=directory, api_database_connection_url=url), database=database)
    sockets = tornado.netutil.bind_sockets(0, "127.0.0.1")
    server = tornado.httpserver.HTTPServer(make_app(context, ui=False))
    server.add_sockets(sockets)
    try:
        base_url = f"http://127.0.0.1:{sockets[0].getsockname()[1]}/api"
        async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
            yield http
    finally:
        server.stop()
        await server.close_all_connections()
        await context.close()
        await database.dispose()
        template_databases.drop(url)


async def _ok(request: Any, status: int = 200) -> Any:
    response = await request
    assert response.status_code == status, response.text
    return response.json() if response.content else None


async def _pool(client: httpx.AsyncClient, name: str, *, poll: bool = True, **body: Any) -> Body:
    """A pool; `poll` as a worker does, so that its default queue is READY."""
    pool = await _ok(client.post("/work_pools/", json={"name": name, **body}), 201)
    if poll:
        await _ok(client.post(f"/work_pools/{name}/get_scheduled_flow_runs", json={}))
    return pool


async def _deployment(client: httpx.AsyncClient, name: str, **body: Any) -> Body:
    flow = await _ok(client.post("/flows/", json={"name": f"{name}-flow"}), 201)
    return await _ok(client.post("/deployments/", json={"flow_id": flow["id"], "name": name, **body}), 201)


async def _run(client: httpx.AsyncClient, deployment: Body, **body: Any) -> str:
    run = await _ok(client.post(f"/deployments/{deployment['id']}/create_flow_run", json=body), 201)
    return str(run["id"])


async def _set_state(client: httpx.AsyncClient, run_id: str, state_type: str, *, force: bool = False) -> Body:
    return await _ok(
        client.post(f"/flow_runs/{run_id}/set_state", json={"state": {"type": state_type}, "force": force}), 201
    )


async def _blockers(client: httpx.AsyncClient, run_id: str) -> Body:
    return await _ok(client.get(f"/flow_runs/{run_id}/blockers"))


def _kinds(blockers: Body) -> list[str]:
    return [blocker["kind"] for blocker in blockers["blockers"]]


async def test_a_run_in_a_polled_open_pool_is_held_by_nothing(client: httpx.AsyncClient) -> None:
    pool = await _pool(client, "free-pool")
    run_id = await _run(client, await _deployment(client, "free", work_pool_name="free-pool"))
    found = await _blockers(client, run_id)
    assert (found["state_type"], found["is_waiting"], found["is_blocked"], found["blockers"]) == (
        "SCHEDULED",
        True,
        False,
        [],
    )
    assert found["flow_run_id"] == run_id
    assert found["message"] == (
        f"Nothing is holding the run: it starts when a worker next polls work pool '{pool['name']}'."
    )


async def test_not_waiting_a_finished_or_pending_run_has_no_blockers(client: httpx.AsyncClient) -> None:
    await _pool(client, "done-pool", is_paused=True)
    deployment = await _deployment(client, "done", work_pool_name="done-pool")
    finished, pending = await _run(client, deployment), await _run(client, deployment)
    await _set_state(client, finished, "COMPLETED", force=True)
    await _set_state(client, pending, "PENDING")
    done = await _blockers(client, finished)
    assert (done["is_waiting"], done["is_blocked"], done["blockers"]) == (False, False, [])
    assert done["message"] == "The run is Completed: it is not waiting to start."
    # Taken by a worker: the paused pool no longer holds it.
    taken = await _blockers(client, pending)
    assert (taken["state_type"], taken["is_waiting"], taken["is_blocked"], taken["blockers"]) == (
        "PENDING",
        True,
        False,
        [],
    )
    assert taken["message"].startswith("The run is Pending: a worker or process has taken it")


async def test_not_due(client: httpx.AsyncClient) -> None:
    await _pool(client, "later-pool")
    deployment = await _deployment(client, "later", work_pool_name="later-pool")
    due = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(hours=2)
    run_id = await _run(
        client, deployment, state={"type": "SCHEDULED", "state_details": {"scheduled_time": due.isoformat()}}
    )
    found = await _blockers(client, run_id)
    assert _kinds(found) == ["not_due"]
    assert dt.datetime.fromisoformat(found["blockers"][0]["since"]) == due
    assert found["blockers"][0]["message"] == f"The run is not due until {due:%Y-%m-%d %H:%M:%S} UTC."
    assert found["is_blocked"] is True


async def test_no_work_pool(client: httpx.AsyncClient) -> None:
    flow = await _ok(client.post("/flows/", json={"name": "local-flow"}), 201)
    run = await _ok(
        client.post("/flow_runs/", json={"flow_id": flow["id"], "name": "local-run", "state": {"type": "SCHEDULED"}}),
        201,
    )
    found = await _blockers(client, run["id"])
    assert _kinds(found) == ["no_work_pool"]
    assert "only a process running its flow by hand starts it" in found["blockers"][0]["message"]
    assert found["blockers"][0]["work_pool_id"] is None


async def test_no_process_polled_a_served_deployment(client: httpx.AsyncClient) -> None:
    # A deployment without a work pool is run by the process serving it, which polls the deployment itself.
    deployment = await _deployment(client, "served")
    run_id = await _run(client, deployment)
    never = await _blockers(client, run_id)
    assert _kinds(never) == ["no_worker_polled"]
    blocker = never["blockers"][0]
    assert (blocker["deployment_id"], blocker["work_pool_id"], blocker["last_polled"]) == (deployment["id"], None, None)
    assert blocker["message"] == (
        "The run has no work pool, and no process serving deployment 'served' has ever polled for its runs."
    )
    await _ok(client.post("/deployments/get_scheduled_flow_runs", json={"deployment_ids": [deployment["id"]]}))
    served = await _blockers(client, run_id)
    assert (served["is_blocked"], served["message"]) == (
        False,
        "Nothing is holding the run: it starts when the process serving deployment 'served' next polls.",
    )


async def test_work_pool_paused(client: httpx.AsyncClient) -> None:
    pool = await _pool(client, "paused-pool")
    run_id = await _run(client, await _deployment(client, "in-paused-pool", work_pool_name="paused-pool"))
    await _ok(client.patch("/work_pools/paused-pool", json={"is_paused": True}), 204)
    found = await _blockers(client, run_id)
    assert _kinds(found) == ["work_pool_paused"]
    blocker = found["blockers"][0]
    assert (blocker["work_pool_id"], blocker["work_pool_name"], blocker["work_queue_name"]) == (
        pool["id"],
        "paused-pool",
        "default",
    )
    since = dt.datetime.fromisoformat(blocker["since"])
    assert abs((dt.datetime.now(dt.UTC) - since).total_seconds()) < 60
    assert blocker["message"].startswith("Work pool 'paused-pool' is paused since ")


async def test_work_queue_paused(client: httpx.AsyncClient) -> None:
    await _pool(client, "queue-paused-pool")
    run_id = await _run(client, await _deployment(client, "in-paused-queue", work_pool_name="queue-paused-pool"))
    await _ok(client.patch("/work_pools/queue-paused-pool/queues/default", json={"is_paused": True}), 204)
    found = await _blockers(client, run_id)
    assert _kinds(found) == ["work_queue_paused"]
    assert found["blockers"][0]["message"] == (
        "Work queue 'default' of work pool 'queue-paused-pool' is paused: no worker gets its runs."
    )


async def test_no_worker_polled_never_then_since(client: httpx.AsyncClient) -> None:
    await _pool(client, "silent-pool", poll=False)
    run_id = await _run(client, await _deployment(client, "unpolled", work_pool_name="silent-pool"))
    never = await _blockers(client, run_id)
    assert _kinds(never) == ["no_worker_polled"]
    assert never["blockers"][0]["last_polled"] is None
    assert never["blockers"][0]["message"] == (
        "No worker has ever polled work queue 'default' of work pool 'silent-pool'."
    )

    await _ok(client.post("/work_pools/silent-pool/get_scheduled_flow_runs", json={}))
    assert (await _blockers(client, run_id))["blockers"] == []

    # Resumed with a poll long ago, the queue is NOT_READY until its next poll (as after the status sweep).
    long_ago = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    queue = "/work_pools/silent-pool/queues/default"
    await _ok(client.patch(queue, json={"is_paused": True}), 204)
    await _ok(client.patch(queue, json={"is_paused": False, "last_polled": long_ago.isoformat()}), 204)
    stale = await _blockers(client, run_id)
    assert _kinds(stale) == ["no_worker_polled"]
    assert dt.datetime.fromisoformat(stale["blockers"][0]["last_polled"]) == long_ago
    assert stale["blockers"][0]["message"].endswith("since 2026-01-02 03:04:05 UTC.")


async def test_work_pool_concurrency_full(client: httpx.AsyncClient) -> None:
    await _pool(client, "small-pool", concurrency_limit=1)
    deployment = await _deployment(client, "in-small-pool", work_pool_name="small-pool")
    running, waiting = await _run(client, deployment), await _run(client, deployment)
    await _set_state(client, running, "RUNNING", force=True)
    found = await _blockers(client, waiting)
    assert _kinds(found) == ["work_pool_concurrency_full"]
    blocker = found["blockers"][0]
    assert (blocker["limit"], blocker["active_slots"]) == (1, 1)
    assert [(holder["type"], holder["id"]) for holder in blocker["holders"]] == [("flow_run", running)]
    await _set_state(client, running, "COMPLETED", force=True)
    assert (await _blockers(client, waiting))["blockers"] == []


async def test_work_queue_concurrency_full(client: httpx.AsyncClient) -> None:
    await _pool(client, "narrow-queue-pool")
    await _ok(client.patch("/work_pools/narrow-queue-pool/queues/default", json={"concurrency_limit": 1}), 204)
    deployment = await _deployment(client, "in-narrow-queue", work_pool_name="narrow-queue-pool")
    running, waiting = await _run(client, deployment), await _run(client, deployment)
    await _set_state(client, running, "RUNNING", force=True)
    found = await _blockers(client, waiting)
    assert _kinds(found) == ["work_queue_concurrency_full"]
    blocker = found["blockers"][0]
    assert (blocker["work_queue_name"], blocker["limit"], blocker["active_slots"]) == ("default", 1, 1)
    assert [holder["id"] for holder in blocker["holders"]] == [running]


async def test_deployment_concurrency_full_holds_an_awaiting_run(client: httpx.AsyncClient) -> None:
    await _pool(client, "deployment-limit-pool")
    deployment = await _deployment(client, "one-at-a-time", work_pool_name="deployment-limit-pool", concurrency_limit=1)
    first, second = await _run(client, deployment), await _run(client, deployment)
    await _set_state(client, first, "PENDING")
    refused = await _set_state(client, second, "PENDING")
    assert refused["state"]["name"] == "AwaitingConcurrencySlot"
    found = await _blockers(client, second)
    assert found["state_name"] == "AwaitingConcurrencySlot"
    # The refusal reschedules it 30 s on: not due yet either.
    assert _kinds(found) == ["not_due", "deployment_concurrency_full"]
    blocker = found["blockers"][1]
    assert (blocker["deployment_id"], blocker["concurrency_limit_name"]) == (
        deployment["id"],
        f"deployment:{deployment['id']}",
    )
    assert (blocker["limit"], blocker["active_slots"]) == (1, 1)
    first_name = (await _ok(client.get(f"/flow_runs/{first}")))["name"]
    assert [(h["type"], h["id"], h["name"]) for h in blocker["holders"]] == [("flow_run", first, first_name)]
    assert "Deployment 'one-at-a-time' has 1 runs holding its concurrency limit (1)" in blocker["message"]


async def test_global_concurrency_full(client: httpx.AsyncClient) -> None:
    await _pool(client, "gpu-pool")
    limit = await _ok(client.post("/v2/concurrency_limits/", json={"name": "gpu", "limit": 1}), 201)
    trainer = await _deployment(client, "trainer", work_pool_name="gpu-pool", global_concurrency_limit_id=limit["id"])
    scorer = await _deployment(client, "scorer", work_pool_name="gpu-pool", global_concurrency_limit_id=limit["id"])
    holder, waiting = await _run(client, trainer), await _run(client, scorer)
    await _set_state(client, holder, "PENDING")
    found = await _blockers(client, waiting)
    assert _kinds(found) == ["global_concurrency_full"]
    blocker = found["blockers"][0]
    assert (blocker["concurrency_limit_id"], blocker["concurrency_limit_name"], blocker["deployment_name"]) == (
        limit["id"],
        "gpu",
        "scorer",
    )
    assert [h["id"] for h in blocker["holders"]] == [holder]
    assert blocker["message"] == (
        "Global concurrency limit 'gpu' (of deployment 'scorer') has all 1 slots taken (1 active)."
    )


async def test_a_paused_deployment_holds_nothing(client: httpx.AsyncClient) -> None:
    # Pausing deletes a deployment's future auto-scheduled runs; a worker still takes the ones left (as in Prefect).
    await _pool(client, "paused-deployment-pool")
    deployment = await _deployment(client, "paused-deployment", work_pool_name="paused-deployment-pool")
    run_id = await _run(client, deployment)
    await _ok(client.post(f"/deployments/{deployment['id']}/pause_deployment"), 204)
    polled = await _ok(client.post("/work_pools/paused-deployment-pool/get_scheduled_flow_runs", json={}))
    assert run_id in str(polled)
    assert (await _blockers(client, run_id))["blockers"] == []


async def test_errors(client: httpx.AsyncClient) -> None:
    missing = await client.get(f"/flow_runs/{uuid.uuid4()}/blockers")
    assert missing.status_code == 404
    assert "does not exist" in missing.json()["detail"]
    assert (await client.get("/flow_runs/not-an-id/blockers")).status_code == 422
