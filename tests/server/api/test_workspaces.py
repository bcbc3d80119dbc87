"""Workspaces: the admin API at /api/workspaces, and isolation: a workspace's objects are reachable under its own URL
only, and a caller with no role in a workspace gets a 404 from every route under its URL."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from baton.server.app import make_app
from baton.server.context import ServerContext
from baton.server.database import tables as t
from baton.server.database.engine import Database
from baton.server.workspaces import DEFAULT_ACCOUNT_ID
from baton.settings import Settings
from tests.pipeline import eventually, running_pipeline
from tests.server.api.route_table import route_table
from tests.server.api.secret_blocks import create_secret_block
from tests.server.conftest import served
from tests.server.identities import ServiceAccountKey, service_account_key


def workspace_api(workspace_id: str) -> str:
    return f"/accounts/{DEFAULT_ACCOUNT_ID}/workspaces/{workspace_id}"


async def new_workspace(client: httpx.AsyncClient, name: str, headers: dict[str, str] | None = None) -> str:
    response = await client.post("/workspaces/", json={"name": name}, headers=headers)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def test_create_read_rename_filter_and_delete(client: httpx.AsyncClient) -> None:
    created = await client.post("/workspaces/", json={"name": "team-a", "description": "A team"})
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["name"] == "team-a"
    assert body["account_id"] == str(DEFAULT_ACCOUNT_ID)
    assert {"id", "created", "updated", "description"} <= body.keys()
    workspace_id = body["id"]

    assert (await client.post("/workspaces/", json={"name": "team-a"})).status_code == 409
    assert (await client.post("/workspaces/", json={"name": "x", "color": "red"})).status_code == 422
    assert (await client.get(f"/workspaces/{workspace_id}")).json()["description"] == "A team"

    assert (await client.patch(f"/workspaces/{workspace_id}", json={"name": "team-b"})).status_code == 204
    await new_workspace(client, "other")
    listed = (await client.post("/workspaces/filter", json={"name_like": "TEAM"})).json()
    assert [item["name"] for item in listed] == ["team-b"]
    assert len((await client.post("/workspaces/filter", json={})).json()) == 2

    flow = await client.post(f"{workspace_api(workspace_id)}/flows/", json={"name": "in-a"})
    assert flow.status_code == 201, flow.text

    assert (await client.delete(f"/workspaces/{workspace_id}")).status_code == 204
    assert (await client.get(f"/workspaces/{workspace_id}")).status_code == 404
    gone = await client.post(f"{workspace_api(workspace_id)}/flows/filter", json={})
    assert gone.status_code == 404
    assert "not found" in gone.json()["detail"]
    assert (await client.delete(f"/workspaces/{workspace_id}")).status_code == 404


async def test_names_are_unique_within_a_workspace_not_across(client: httpx.AsyncClient) -> None:
    a, b = await new_workspace(client, "a"), await new_workspace(client, "b")
    for prefix in ("", workspace_api(a), workspace_api(b)):
        response = await client.post(f"{prefix}/variables/", json={"name": "region", "value": prefix or "default"})
        assert response.status_code == 201, response.text
    again = await client.post(f"{workspace_api(a)}/variables/", json={"name": "region", "value": 1})
    assert again.status_code == 409
    for prefix in ("", workspace_api(a), workspace_api(b)):
        variable = (await client.get(f"{prefix}/variables/name/region")).json()
        assert variable["value"] == (prefix or "default")


async def test_a_workspace_url_with_an_unknown_workspace_or_account_is_a_404(client: httpx.AsyncClient) -> None:
    workspace_id = await new_workspace(client, "a")
    for prefix in (
        workspace_api(str(uuid.uuid4())),
        f"/accounts/{uuid.uuid4()}/workspaces/{workspace_id}",
        "/accounts/x/workspaces/not-a-uuid",
    ):
        response = await client.post(f"{prefix}/flows/filter", json={})
        assert response.status_code == 404, prefix
        assert "Workspace" in response.json()["detail"]
        # The same 404 whatever the body: a body that is not JSON is refused only where the route exists.
        for headers in ({}, {"Content-Type": "text/plain"}):
            response = await client.post(f"{prefix}/flows/", content=b"name=x", headers=headers)
            assert response.status_code == 404, (prefix, headers, response.text)
    created = await client.post(f"{workspace_api(workspace_id)}/flows/", content=b"name=x")
    assert created.status_code == 415, created.text
    # Global objects are served at /api only.
    assert (await client.post(f"{workspace_api(workspace_id)}/users/filter", json={})).status_code == 404


async def test_deleting_a_workspace_removes_its_data_and_nothing_else(
    client: httpx.AsyncClient, database: Database
) -> None:
    a, b = await new_workspace(client, "a"), await new_workspace(client, "b")
    for prefix in ("", workspace_api(a), workspace_api(b)):
        assert (await client.post(f"{prefix}/flows/", json={"name": f"flow{prefix[-4:]}"})).status_code == 201
    store = database.for_workspace(uuid.UUID(a)).store
    assert store is not None

    assert (await client.delete(f"/workspaces/{a}")).status_code == 204

    assert [row["name"] for row in (await client.post("/flows/filter", json={})).json()] == ["flow"]
    assert [row["name"] for row in (await client.post(f"{workspace_api(b)}/flows/filter", json={})).json()] == [
        f"flow{b[-4:]}"
    ]
    async with database.read() as connection:
        assert (await connection.execute(sa.select(t.workspace.c.id))).scalars().all() == [uuid.UUID(b)]
        if store.schema is not None:
            schemas = await connection.run_sync(lambda sync: sa.inspect(sync).get_schema_names())
            assert store.schema not in schemas


# --- isolation with authentication on -------------------------------------------------------------------------


@dataclass
class TwoWorkspaces:
    base_url: str
    context: ServerContext
    admin: ServiceAccountKey
    member_of_a: ServiceAccountKey
    a: str
    b: str
    #: path under a workspace's URL -> an object of workspace B there
    objects_of_b: dict[str, str]


@pytest.fixture
async def two_workspaces(database: Database, tmp_path: Path) -> AsyncIterator[TwoWorkspaces]:
    settings = Settings(home=tmp_path, api_database_connection_url=str(database.url), auth_enabled=True)
    async with database.write() as connection:
        admin = await service_account_key(connection, "admin")
        # A viewer at /api, given the admin role in workspace A only.
        member = await service_account_key(connection, "viewer")
    # The whole pipeline: events and state changes reach the workspaces' stores through the actors.
    async with (
        running_pipeline(settings, database) as context,
        served(context, ui=False) as base_url,
        httpx.AsyncClient(base_url=f"{base_url}/api", timeout=30) as http,
    ):
        a = await new_workspace(http, "a", admin.headers)
        b = await new_workspace(http, "b", admin.headers)
        joined = await http.put(
            f"/workspaces/{a}/members/{member.account_id}", json={"role": "admin"}, headers=admin.headers
        )
        assert joined.status_code == 200, joined.text
        objects = await objects_of_every_kind(http, workspace_api(b), admin.headers)
        yield TwoWorkspaces(base_url, context, admin, member, a, b, objects)


async def objects_of_every_kind(http: httpx.AsyncClient, api: str, headers: dict[str, str]) -> dict[str, str]:
    """One object of every kind in the workspace at `api`; returns the path of each under a workspace's URL."""

    async def made(path: str, body: Any, key: str = "id") -> str:
        response = await http.post(f"{api}{path}", json=body, headers=headers)
        assert response.status_code in (200, 201), f"{path}: {response.text}"
        return str(response.json()[key])

    flow = await made("/flows/", {"name": "etl"})
    deployment = await made("/deployments/", {"name": "nightly", "flow_id": flow})
    flow_run = await made("/flow_runs/", {"flow_id": flow, "name": "run-b"})
    task_run = await made("/task_runs/", {"flow_run_id": flow_run, "task_key": "k", "dynamic_key": "0", "name": "t"})
    await made("/work_pools/", {"name": "pool-b", "type": "process"}, key="name")
    await made("/work_pools/pool-b/queues/", {"name": "queue-b"}, key="name")
    await made("/variables/", {"name": "var-b", "value": 1}, key="name")
    artifact = await made("/artifacts/", {"key": "artifact-b", "data": 1})
    limit = await made("/v2/concurrency_limits/", {"name": "limit-b", "limit": 1})
    await made("/concurrency_limits/", {"tag": "tag-b", "concurrency_limit": 1}, key="tag")
    block = await create_secret_block(http, headers, api)
    automation = await made(
        "/automations/",
        {
            "name": "auto-b",
            "trigger": {"type": "event", "expect": ["x"], "posture": "Reactive", "threshold": 1, "within": 0},
            "actions": [{"type": "do-nothing"}],
        },
    )
    slack = (await http.get(f"{api}/block_types/slug/slack-webhook", headers=headers)).json()
    schemas = {"block_schemas": {"block_type_id": {"any_": [slack["id"]]}}}
    slack_schema = (await http.post(f"{api}/block_schemas/filter", json=schemas, headers=headers)).json()[0]
    channel = await made(
        "/block_documents/",
        {
            "name": "slack-b",
            "block_type_id": slack["id"],
            "block_schema_id": slack_schema["id"],
            "data": {"url": "https://hooks.slack.com/services/b"},
        },
    )
    policy = await made(
        "/flow_run_notification_policies/", {"state_names": ["Failed"], "block_document_id": channel, "tags": []}
    )
    search = await http.put(f"{api}/saved_searches/", json={"name": "search-b", "filters": []}, headers=headers)
    assert search.status_code in (200, 201), search.text
    event = {
        "id": str(uuid.uuid4()),
        "occurred": dt.datetime.now(dt.UTC).isoformat(),
        "event": "b.happened",
        "resource": {"prefect.resource.id": "b.resource"},
    }
    assert (await http.post(f"{api}/events", json=[event], headers=headers)).status_code == 204
    return {
        "/flows/{}": flow,
        "/deployments/{}": deployment,
        "/flow_runs/{}": flow_run,
        "/task_runs/{}": task_run,
        "/work_pools/{}": "pool-b",
        "/work_pools/pool-b/queues/{}": "queue-b",
        "/variables/name/{}": "var-b",
        "/artifacts/{}": artifact,
        "/v2/concurrency_limits/{}": limit,
        "/concurrency_limits/tag/{}": "tag-b",
        "/block_documents/{}": block["id"],
        "/automations/{}": automation,
        "/flow_run_notification_policies/{}": policy,
        "/saved_searches/{}": search.json()["id"],
    }


async def test_a_caller_with_no_role_in_a_workspace_gets_404_from_every_route_under_its_url(
    two_workspaces: TwoWorkspaces,
) -> None:
    app = make_app(two_workspaces.context, ui=False)
    routes = [route for route in route_table(app) if route.pattern.startswith("/api/")]
    wrong = []
    expected = f"Workspace {two_workspaces.b} not found in account {DEFAULT_ACCOUNT_ID}."
    async with httpx.AsyncClient(base_url=two_workspaces.base_url, timeout=30) as http:
        for route in routes:
            path = route.url().removeprefix("/api")
            for method in route.methods or ["GET"]:
                body = {} if method in ("POST", "PUT", "PATCH") else None
                url = f"/api{workspace_api(two_workspaces.b)}{path}"
                response = await http.request(method, url, json=body, headers=two_workspaces.member_of_a.headers)
                # The same answer as for a workspace that does not exist, so that ids cannot be probed.
                if response.status_code != 404 or response.json().get("detail") != expected:
                    wrong.append(f"{method} {url}: {response.status_code} {response.text[:100]}")
    assert len(routes) > 100
    assert not wrong, "\n".join(wrong)


async def test_one_workspace_cannot_reach_the_objects_of_another(two_workspaces: TwoWorkspaces) -> None:
    member = two_workspaces.member_of_a.headers
    async with httpx.AsyncClient(base_url=f"{two_workspaces.base_url}/api", timeout=30) as http:
        in_a, in_b = workspace_api(two_workspaces.a), workspace_api(two_workspaces.b)
        for template, key in two_workspaces.objects_of_b.items():
            path = template.format(key)
            for method in ("GET", "DELETE"):
                response = await http.request(method, f"{in_a}{path}", headers=member)
                assert response.status_code == 404, f"{method} {in_a}{path}: {response.status_code} {response.text}"
            # Nor at /api (the default workspace), with the server admin's key.
            at_default = await http.get(path, headers=two_workspaces.admin.headers)
            assert at_default.status_code == 404, f"GET /api{path}: {at_default.status_code}"
            # Still there, in B.
            kept = await http.get(f"{in_b}{path}", headers=two_workspaces.admin.headers)
            assert kept.status_code == 200, f"GET {in_b}{path}: {kept.status_code} {kept.text}"

        async def event_names(api: str, headers: dict[str, str]) -> list[str]:
            response = await http.post(f"{api}/events/filter", json={}, headers=headers)
            assert response.status_code == 200, response.text
            return [event["event"] for event in response.json()["events"]]

        # B's event is recorded in B's store by the events actor, and in neither A nor the default workspace.
        async def recorded_in_b() -> bool:
            return "b.happened" in await event_names(in_b, two_workspaces.admin.headers)

        assert await eventually(recorded_in_b)
        assert "b.happened" not in await event_names(in_a, member)
        assert "b.happened" not in await event_names("", two_workspaces.admin.headers)
        # Admission: the member is an admin in A, which it may write to.
        assert (await http.post(f"{in_a}/flows/", json={"name": "mine"}, headers=member)).status_code == 201
        assert (await http.post("/flows/", json={"name": "mine"}, headers=member)).status_code == 403


async def test_the_audit_log_records_the_workspace_of_a_change(two_workspaces: TwoWorkspaces) -> None:
    admin = two_workspaces.admin.headers
    async with httpx.AsyncClient(base_url=f"{two_workspaces.base_url}/api", timeout=30) as http:
        entries = (await http.post("/audit/filter", json={"action": "variable.create"}, headers=admin)).json()
        assert [entry["workspace_id"] for entry in entries] == [two_workspaces.b]
        created = (await http.post("/audit/filter", json={"action": "workspace.create"}, headers=admin)).json()
        assert {entry["workspace_id"] for entry in created} == {None}
        assert {entry["resource_name"] for entry in created} == {"a", "b"}


async def test_the_events_socket_under_a_workspace_url_records_into_that_workspace(
    two_workspaces: TwoWorkspaces,
) -> None:
    member = two_workspaces.member_of_a.headers
    socket_base = two_workspaces.base_url.replace("http://", "ws://") + "/api"
    with pytest.raises(InvalidStatus) as refused:
        async with connect(f"{socket_base}{workspace_api(two_workspaces.b)}/events/in", additional_headers=member):
            pass
    assert refused.value.response.status_code == 404
    event = {
        "id": str(uuid.uuid4()),
        "occurred": dt.datetime.now(dt.UTC).isoformat(),
        "event": "a.socket-event",
        "resource": {"prefect.resource.id": "a.thing"},
    }
    async with connect(f"{socket_base}{workspace_api(two_workspaces.a)}/events/in", additional_headers=member) as ws:
        await ws.send(json.dumps(event))
    async with httpx.AsyncClient(base_url=f"{two_workspaces.base_url}/api", timeout=30) as http:
        names: list[str] = []
        for _ in range(50):
            page = await http.post(f"{workspace_api(two_workspaces.a)}/events/filter", json={}, headers=member)
            names = [item["event"] for item in page.json()["events"]]
            if names:
                break
            await asyncio.sleep(0.1)
        assert names == ["a.socket-event"]
        at_default = await http.post("/events/filter", json={}, headers=two_workspaces.admin.headers)
        assert "a.socket-event" not in [item["event"] for item in at_default.json()["events"]]
