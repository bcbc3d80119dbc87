"""With authentication on, the whole route table (API, UI, docs, static files, websockets) answers each caller as its
role says: no credential or a bad key is a 401 (a UI page: a redirect to the sign-in page) except on the short list
of open routes, and each built-in role gets a 403 exactly where it lacks the route's permission.

SQLite only: one server for the module, and the permission check is the same code on both databases (the
revocation test, test_auth_revocation.py, runs on PostgreSQL).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import urllib.parse
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
import pytest_asyncio
import tornado.httpserver
import tornado.netutil
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.typing import Subprotocol

from baton.server.app import make_app
from baton.server.context import ServerContext
from baton.server.database.engine import Database
from baton.server.permissions import BUILT_IN_ROLES, PUBLIC, SIGNED_IN, route_permission
from baton.settings import Settings
from tests.databases import ENABLED_DIALECTS, TemplateDatabases
from tests.server.api.events_helpers import event, seed
from tests.server.api.route_table import Route, route_table
from tests.server.api.secret_blocks import SECRET_VALUE, create_secret_block
from tests.server.identities import ServiceAccountKey, service_account_key

pytestmark = pytest.mark.asyncio(loop_scope="module")

DIALECT = "sqlite" if "sqlite" in ENABLED_DIALECTS else ENABLED_DIALECTS[0]
ROLES = tuple(BUILT_IN_ROLES)
INVALID_KEY = "baton_" + "x" * 43
CLOSE_POLICY_VIOLATION = 1008
RECEIVE_TIMEOUT_SECONDS = 5.0


@dataclass(frozen=True)
class AuthServer:
    base_url: str
    context: ServerContext
    routes: list[Route]
    keys: dict[str, ServiceAccountKey]

    @property
    def ws_url(self) -> str:
        return self.base_url.replace("http://", "ws://")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def server(
    template_databases: TemplateDatabases, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[AuthServer]:
    directory = tmp_path_factory.mktemp("route-access")
    url = template_databases.clone(DIALECT, directory)
    database = Database(url)
    await database.open()
    context = ServerContext(
        settings=Settings(home=directory, api_database_connection_url=url, auth_enabled=True), database=database
    )
    async with database.write() as connection:
        keys = {role: await service_account_key(connection, role) for role in ROLES}
    app = make_app(context, ui=True)
    sockets = tornado.netutil.bind_sockets(0, "127.0.0.1")
    http_server = tornado.httpserver.HTTPServer(app, max_body_size=context.settings.server_api_max_body_bytes)
    http_server.add_sockets(sockets)
    try:
        yield AuthServer(f"http://127.0.0.1:{sockets[0].getsockname()[1]}", context, route_table(app), keys)
    finally:
        http_server.stop()
        await http_server.close_all_connections()
        await context.close()
        await database.dispose()
        template_databases.drop(url)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def client(server: AuthServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30, follow_redirects=False) as http:
        yield http


def _requests(server: AuthServer) -> list[tuple[Route, str, str]]:
    """(route, method, URL) for every method of every plain HTTP route, the catch-alls included."""
    return [
        (route, method, route.url())
        for route in server.routes
        if not route.is_websocket
        for method in (route.methods or ["GET"])
    ]


def _permission(route: Route, method: str) -> str:
    permission = route_permission(route.handler, method) or getattr(route.handler, "permission", None)
    assert isinstance(permission, str), route
    return permission


async def _send(client: httpx.AsyncClient, method: str, url: str, headers: dict[str, str]) -> httpx.Response:
    body: dict[str, object] | None = {} if method in ("POST", "PUT", "PATCH") else None
    return await client.request(method, url, headers=headers, json=body)


def _is_sign_in_redirect(response: httpx.Response, url: str) -> bool:
    location = response.headers.get("Location", "")
    return response.status_code == 302 and location == "/login?" + urllib.parse.urlencode({"next": url})


async def _refusals(server: AuthServer, client: httpx.AsyncClient, headers: dict[str, str]) -> list[str]:
    """Each non-open route that does not refuse a caller with `headers` as unauthenticated."""
    wrong = []
    for route, method, url in _requests(server):
        if _permission(route, method) == PUBLIC:
            continue
        response = await _send(client, method, url, headers)
        if route.is_api or method != "GET":
            # A UI form post (sign-out) answers with the HTML error page.
            if response.status_code != 401 or (route.is_api and "detail" not in response.json()):
                wrong.append(f"{method} {url}: {response.status_code} {response.text[:120]}")
        elif not _is_sign_in_redirect(response, url):
            wrong.append(f"{method} {url}: {response.status_code} {response.headers.get('Location')}")
    return wrong


async def test_without_credentials_only_the_open_routes_answer(server: AuthServer, client: httpx.AsyncClient) -> None:
    wrong = await _refusals(server, client, {})
    assert not wrong, "\n".join(wrong)
    opened = 0
    for route, method, url in _requests(server):
        if _permission(route, method) == PUBLIC and not route.is_catch_all:
            response = await _send(client, method, url, {})
            opened += 1
            # csrf-token: 422; single sign-on, not configured on this server: 404.
            expected = (404,) if url.startswith("/login/sso") else (200, 422)
            assert response.status_code in expected, f"{method} {url}: {response.status_code}"
    assert opened == 13  # GET and POST /login: an empty sign-in form is answered with the form again
    assert (await client.get("/api/no-such-route")).status_code == 404


async def test_an_unknown_key_is_refused_everywhere_but_the_open_routes(
    server: AuthServer, client: httpx.AsyncClient
) -> None:
    headers = {"Authorization": f"Bearer {INVALID_KEY}"}
    wrong = await _refusals(server, client, headers)
    assert not wrong, "\n".join(wrong)
    # The open routes stay open with a stale credential (a revoked key's health check, an ended session's sign-in).
    assert (await client.get("/api/health", headers=headers)).status_code == 200
    stale_session = {"Cookie": "baton_session=ended"}
    assert (await client.get("/api/admin/version", headers=stale_session)).status_code == 200
    response = await client.get("/api/flows/name/x", headers={"Authorization": "Token nonsense"})
    assert response.status_code == 401


@pytest.mark.parametrize("role", ROLES)
async def test_each_role_is_refused_exactly_what_it_lacks(
    server: AuthServer, client: httpx.AsyncClient, role: str
) -> None:
    granted = BUILT_IN_ROLES[role]
    headers = server.keys[role].headers
    wrong = []
    refused = 0
    for route, method, url in _requests(server):
        permission = _permission(route, method)
        allowed = permission in (PUBLIC, SIGNED_IN) or permission in granted
        response = await _send(client, method, url, headers)
        if not allowed:
            refused += 1
            if response.status_code != 403 or (route.is_api and permission not in response.json()["detail"]):
                wrong.append(f"{method} {url} needs {permission}: {response.status_code} {response.text[:120]}")
        elif response.status_code in (401, 403) or response.status_code >= 500:
            wrong.append(f"{method} {url} ({permission}): {response.status_code} {response.text[:200]}")
    assert not wrong, "\n".join(wrong)
    assert (refused == 0) == (role == "admin")


SECRET_READS = (
    ("GET", "/api/block_documents/{id}?include_secrets=true"),
    ("GET", "/api/block_types/slug/secret/block_documents?include_secrets=true"),
    ("GET", "/api/block_types/slug/secret/block_documents/name/{name}?include_secrets=true"),
    ("POST", "/api/block_documents/filter"),
)


@pytest.mark.parametrize("role", ROLES)
async def test_secret_values_need_block_secrets_and_each_read_is_audited(
    server: AuthServer, client: httpx.AsyncClient, role: str
) -> None:
    block = await create_secret_block(client, server.keys["developer"].headers, "/api")
    headers = server.keys[role].headers
    may = "block:secrets" in BUILT_IN_ROLES[role]
    for method, template in SECRET_READS:
        url = template.format(**block)
        body = {"include_secrets": True} if method == "POST" else None
        response = await client.request(method, url, headers=headers, json=body)
        if not may:
            assert response.status_code == 403, (url, response.text)
            assert "block:secrets" in response.json()["detail"]
            assert "include_secrets" in response.json()["detail"]
            continue
        assert response.status_code == 200, (url, response.text)
        assert SECRET_VALUE in response.text
    masked = await client.get(f"/api/block_documents/{block['id']}", headers=headers)
    assert masked.status_code == 200
    assert SECRET_VALUE not in masked.text

    await server.context.audit_log.flush()
    entries = await _audit_entries(server, server.keys[role].name, "block.read_secrets")
    if may:
        mine = [entry for entry in entries if entry["resource_id"] == block["id"]]
        assert len(mine) == len(SECRET_READS)
        assert {(entry["outcome"], entry["resource_name"], entry["resource_kind"]) for entry in mine} == {
            ("success", block["name"], "block")
        }
    else:
        assert {(entry["outcome"], entry["status_code"]) for entry in entries} == {("denied", 403)}
        assert len(entries) >= len(SECRET_READS)
    assert SECRET_VALUE not in repr(entries)


async def _audit_entries(server: AuthServer, actor_name: str, action: str) -> list[dict[str, object]]:
    import sqlalchemy as sa

    from baton.server.database import tables as t

    query = sa.select(t.audit_entry).where(t.audit_entry.c.actor_name == actor_name, t.audit_entry.c.action == action)
    async with server.context.database.read() as connection:
        return [dict(row) for row in (await connection.execute(query)).mappings()]


def _socket_url(server: AuthServer, route: Route) -> str:
    return server.ws_url + route.url()


@pytest.mark.parametrize("role", ROLES)
async def test_each_role_opens_exactly_the_websockets_it_may(server: AuthServer, role: str) -> None:
    sockets = [route for route in server.routes if route.is_websocket]
    assert len(sockets) == 5
    for route in sockets:
        permission = _permission(route, "GET")
        headers = server.keys[role].headers
        if permission in BUILT_IN_ROLES[role]:
            async with connect(
                _socket_url(server, route), subprotocols=[Subprotocol("prefect")], additional_headers=headers
            ) as socket:
                assert socket.subprotocol == "prefect", route
        else:
            with pytest.raises(InvalidStatus) as refused:
                async with connect(_socket_url(server, route), additional_headers=headers):
                    pass
            assert refused.value.response.status_code == 403, route


async def test_a_websocket_without_a_token_is_refused(server: AuthServer) -> None:
    for route in (route for route in server.routes if route.is_websocket):
        async with connect(_socket_url(server, route), subprotocols=[Subprotocol("prefect")]) as socket:
            await socket.send(json.dumps({"type": "auth", "token": None}))
            with pytest.raises(ConnectionClosed) as closed:
                while True:
                    await asyncio.wait_for(socket.recv(), RECEIVE_TIMEOUT_SECONDS)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == CLOSE_POLICY_VIOLATION, route


async def test_a_viewer_subscribes_to_events_with_the_auth_message(server: AuthServer) -> None:
    resource = f"perm.{uuid.uuid4()}"
    now = dt.datetime.now(dt.UTC)
    await seed(server.context.database, event("perm.seen", resource, now - dt.timedelta(minutes=1)))
    async with connect(server.ws_url + "/api/events/out", subprotocols=[Subprotocol("prefect")]) as socket:
        await socket.send(json.dumps({"type": "auth", "token": server.keys["viewer"].key}))
        assert json.loads(await asyncio.wait_for(socket.recv(), RECEIVE_TIMEOUT_SECONDS)) == {"type": "auth_success"}
        since, until = now - dt.timedelta(minutes=10), now + dt.timedelta(days=1)
        spec = {"resource": {"id": [resource]}, "occurred": {"since": since.isoformat(), "until": until.isoformat()}}
        await socket.send(json.dumps({"type": "filter", "filter": spec, "backfill": True}))
        message = json.loads(await asyncio.wait_for(socket.recv(), RECEIVE_TIMEOUT_SECONDS))
    assert message["type"] == "event"
    assert message["event"]["resource"]["prefect.resource.id"] == resource
    async with connect(server.ws_url + "/api/events/out", subprotocols=[Subprotocol("prefect")]) as socket:
        await socket.send(json.dumps({"type": "auth", "token": INVALID_KEY}))
        answer = json.loads(await asyncio.wait_for(socket.recv(), RECEIVE_TIMEOUT_SECONDS))
        assert answer["type"] == "auth_failure"
        assert "not valid" in answer["reason"]
