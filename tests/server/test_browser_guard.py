"""What a web page in the user's browser can do to a Baton server (issue 23's probes), with authentication off.

A cross-site page may send "simple" requests (text/plain, form and multipart bodies) to any address without a CORS
preflight, and through DNS rebinding may even read the answers under its own host name; CORS and the security headers
decide what a page may read or frame.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import httpx
import pytest
import tornado.httpclient
import tornado.httpserver
import tornado.netutil
import tornado.websocket

from baton.server.app import make_app
from baton.server.browser_guard import CONTENT_SECURITY_POLICY, HostAllowList, host_name
from baton.server.context import ServerContext
from baton.server.database.engine import Database
from baton.settings import Settings

StartServer = Callable[..., AbstractAsyncContextManager[str]]


@pytest.fixture
def start_server(settings: Settings, database: Database) -> StartServer:
    """Start a server on loopback with the test's settings changed by keyword arguments; yields its base URL."""

    @asynccontextmanager
    async def start(**changes: Any) -> AsyncIterator[str]:
        changed = settings.model_copy(update=changes)
        sockets = tornado.netutil.bind_sockets(0, "127.0.0.1")
        server = tornado.httpserver.HTTPServer(make_app(ServerContext(settings=changed, database=database)))
        server.add_sockets(sockets)
        try:
            yield f"http://127.0.0.1:{sockets[0].getsockname()[1]}"
        finally:
            server.stop()
            await server.close_all_connections()

    return start


async def _variable_names(client: httpx.AsyncClient) -> list[str]:
    response = await client.post("/variables/filter", json={})
    assert response.status_code == 200, response.text
    return [variable["name"] for variable in response.json()]


# --- API writes are JSON only ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type, body",
    [
        ("text/plain", b'{"name": "planted", "value": "x"}'),
        ("text/plain;charset=UTF-8", b'{"name": "planted", "value": "x"}'),
        ("application/x-www-form-urlencoded", b"name=planted&value=x"),
        (
            "multipart/form-data; boundary=b",
            b'--b\r\nContent-Disposition: form-data; name="name"\r\n\r\nplanted\r\n--b--',
        ),
        (None, b'{"name": "planted", "value": "x"}'),
    ],
)
async def test_a_cross_site_style_post_creates_nothing(
    client: httpx.AsyncClient, content_type: str | None, body: bytes
) -> None:
    headers = {"Origin": "https://attacker.example"}
    if content_type is not None:
        headers["Content-Type"] = content_type
    response = await client.post("/variables/", content=body, headers=headers)  # httpx adds no Content-Type
    assert response.status_code == 415, response.text
    assert "application/json" in response.json()["detail"]
    assert "Access-Control-Allow-Origin" not in response.headers
    assert await _variable_names(client) == []


async def test_routes_that_ignore_their_body_refuse_a_non_json_one(client: httpx.AsyncClient) -> None:
    created = await client.post("/variables/", json={"name": "kept", "value": 1})
    assert created.status_code == 201, created.text
    path = f"/variables/{created.json()['id']}"
    refused = await client.request("DELETE", path, content=b"x=1", headers={"Content-Type": "text/plain"})
    assert refused.status_code == 415, refused.text
    assert (await client.post("/flows/count", content=b"x", headers={"Content-Type": "text/plain"})).status_code == 415
    assert await _variable_names(client) == ["kept"]
    # Without a body, a write needs no Content-Type (the UI's delete buttons send none).
    assert (await client.request("DELETE", path)).status_code == 204
    assert await _variable_names(client) == []


# --- the Host allow-list -----------------------------------------------------------------------------------------


async def test_a_foreign_host_is_refused_on_every_kind_of_route(base_url: str) -> None:
    foreign = {"Host": "rebound.attacker.example"}
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as http:
        api = await http.post("/api/variables/", json={"name": "planted", "value": 1}, headers=foreign)
        assert api.status_code == 400
        assert "BATON_SERVER_ALLOWED_HOSTS" in api.json()["detail"]
        assert "rebound.attacker.example" in api.json()["detail"]
        for path in ("/", "/variables", "/ui-static/baton.js", "/docs", "/api/health"):
            response = await http.get(path, headers=foreign)
            assert response.status_code == 400, path
            assert "BATON_SERVER_ALLOWED_HOSTS" in response.text, path
        assert (await http.post("/api/variables/filter", json={})).json() == []
        port = base_url.rsplit(":", 1)[1]
        for host in (f"127.0.0.1:{port}", f"localhost:{port}", "LOCALHOST", f"[::1]:{port}", "localhost."):
            assert (await http.get("/api/health", headers={"Host": host})).status_code == 200, host
    request = tornado.httpclient.HTTPRequest(
        base_url.replace("http://", "ws://") + "/api/events/out", headers={"Host": "rebound.attacker.example"}
    )
    with pytest.raises(tornado.httpclient.HTTPClientError) as refused:
        await tornado.websocket.websocket_connect(request)
    assert refused.value.code == 400
    request.headers["Host"] = base_url.removeprefix("http://")
    socket = await tornado.websocket.websocket_connect(request)
    socket.close()


async def test_allowed_hosts_setting(start_server: StartServer) -> None:
    async with start_server(server_allowed_hosts=("baton.internal", ".example.com")) as url:
        async with httpx.AsyncClient(base_url=url, timeout=10) as http:
            for host, status in [
                ("baton.internal:4200", 200),
                ("example.com", 200),
                ("ci.example.com", 200),
                ("badexample.com", 400),
                ("127.0.0.1", 200),  # the list adds to the names always allowed
                ("other.example", 400),
            ]:
                assert (await http.get("/api/health", headers={"Host": host})).status_code == status, host
    async with start_server(server_allowed_hosts=("*",)) as url:
        async with httpx.AsyncClient(base_url=url, timeout=10) as http:
            assert (await http.get("/api/health", headers={"Host": "anything.example"})).status_code == 200
    async with start_server(ui_url="https://baton.example.org/", api_url="http://api:4200/api") as url:
        async with httpx.AsyncClient(base_url=url, timeout=10) as http:
            for host in ("baton.example.org", "api:4200", "127.0.0.1"):
                assert (await http.get("/api/health", headers={"Host": host})).status_code == 200, host
            assert (await http.get("/api/health", headers={"Host": "other.example"})).status_code == 400


def test_host_names_and_the_default_list() -> None:
    assert host_name("Example.COM:4200") == "example.com"
    assert host_name("[::1]:4200") == "::1"
    assert host_name("::1") == "::1"
    assert host_name("baton.example.") == "baton.example"
    defaults = HostAllowList.from_settings(Settings(), "192.168.1.5")
    assert all(defaults.allows(host) for host in ("192.168.1.5:4200", "localhost", "127.0.0.1", "[::1]"))
    assert not defaults.allows("10.0.0.1")
    wildcard = HostAllowList.from_settings(Settings(), "0.0.0.0")
    assert not wildcard.allows("0.0.0.0") and wildcard.allows("localhost")


# --- CORS --------------------------------------------------------------------------------------------------------


async def test_cors_is_off_without_the_setting(client: httpx.AsyncClient) -> None:
    origin = {"Origin": "https://app.example"}
    preflight = await client.options(
        "/variables/",
        headers={**origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"},
    )
    assert not [name for name in preflight.headers if name.lower().startswith("access-control-")]
    answer = await client.post("/variables/filter", json={}, headers=origin)
    assert answer.status_code == 200
    assert not [name for name in answer.headers if name.lower().startswith("access-control-")]


async def test_cors_answers_only_the_listed_origins(start_server: StartServer) -> None:
    async with start_server(server_cors_allowed_origins=("https://app.example",)) as url:
        async with httpx.AsyncClient(base_url=f"{url}/api", timeout=10) as http:
            preflight = await http.options(
                "/variables/",
                headers={
                    "Origin": "https://app.example",
                    "Access-Control-Request-Method": "POST",
                    "Access-Control-Request-Headers": "authorization, content-type",
                },
            )
            assert preflight.status_code == 204
            assert preflight.headers["Access-Control-Allow-Origin"] == "https://app.example"
            assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
            assert preflight.headers["Access-Control-Allow-Headers"] == "authorization, content-type"
            answer = await http.post("/variables/filter", json={}, headers={"Origin": "https://app.example"})
            assert answer.headers["Access-Control-Allow-Origin"] == "https://app.example"
            assert answer.headers["Access-Control-Allow-Credentials"] == "true"
            other = {"Origin": "https://attacker.example"}
            refused = await http.options("/variables/", headers={**other, "Access-Control-Request-Method": "POST"})
            assert "Access-Control-Allow-Origin" not in refused.headers
            answer = await http.post("/variables/filter", json={}, headers=other)
            assert "Access-Control-Allow-Origin" not in answer.headers
    async with start_server(server_cors_allowed_origins=("*",)) as url:
        async with httpx.AsyncClient(base_url=f"{url}/api", timeout=10) as http:
            answer = await http.post("/variables/filter", json={}, headers={"Origin": "https://any.example"})
            assert answer.headers["Access-Control-Allow-Origin"] == "*"
            assert "Access-Control-Allow-Credentials" not in answer.headers


# --- security headers --------------------------------------------------------------------------------------------


async def test_pages_and_error_pages_carry_the_security_headers(base_url: str) -> None:
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as http:
        for path, status in [("/", 200), ("/variables/new", 200), ("/no-such-page", 404), ("/docs", 200)]:
            response = await http.get(path)
            assert response.status_code == status, path
            policy = response.headers["Content-Security-Policy"]
            assert "script-src 'self';" in policy and "'unsafe-inline'" not in policy, path
            assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy, path
            assert response.headers["X-Frame-Options"] == "DENY", path
            assert response.headers["Referrer-Policy"] == "same-origin", path
            assert response.headers["X-Content-Type-Options"] == "nosniff", path
            assert "<script>" not in response.text, path
        assert (await http.get("/")).headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
        static = await http.get("/ui-static/theme.js")
        assert static.status_code == 200 and static.headers["X-Content-Type-Options"] == "nosniff"
