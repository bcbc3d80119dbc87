"""The /logs/out websocket and the live log stream, on SQLite and PostgreSQL, over real sockets on loopback."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import tornado.httpserver
import tornado.netutil
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from baton.server.app import make_app
from baton.server.context import ServerContext
from baton.server.database.engine import Database
from baton.server.logs_stream import log_matches
from baton.server.schemas.filters import LogFilter
from baton.settings import Settings

# A live line reaches a subscriber within a poll (0.25 s); anything near this is a failure.
LIVE_TIMEOUT_SECONDS = 2.0
NOW = dt.datetime.now(dt.UTC)
# The fields of Prefect's `Log`, which the official client validates each streamed line against.
LOG_FIELDS = {"id", "created", "updated", "name", "level", "message", "timestamp", "flow_run_id", "task_run_id"}


def _log(
    run_id: str | None, message: str, level: int = 20, task_run_id: str | None = None, seconds: int = 0
) -> dict[str, Any]:
    return {
        "name": "prefect.flow_runs" if task_run_id is None else "prefect.task_runs",
        "level": level,
        "message": message,
        "timestamp": (NOW + dt.timedelta(seconds=seconds)).isoformat(),
        "flow_run_id": run_id,
        "task_run_id": task_run_id,
    }


def _live(spec: dict[str, Any]) -> dict[str, Any]:
    """A filter as the official client sends it: from a minute ago to a year ahead."""
    window = {
        "after_": (NOW - dt.timedelta(minutes=1)).isoformat(),
        "before_": (NOW + dt.timedelta(days=365)).isoformat(),
    }
    return {**spec, "timestamp": window}


async def _subscribe(ws_url: str, spec: dict[str, Any]) -> ClientConnection:
    socket = await connect(ws_url, subprotocols=[Subprotocol("prefect")])
    await socket.send(json.dumps({"type": "auth", "token": None}))
    assert json.loads(await socket.recv()) == {"type": "auth_success"}
    await socket.send(json.dumps({"type": "filter", "filter": spec}))
    # No answer tells when the subscription has started: give the server a moment before writing lines.
    await _assert_silent(socket, 0.3)
    return socket


async def _next_log(socket: ClientConnection) -> dict[str, Any]:
    message = json.loads(await asyncio.wait_for(socket.recv(), LIVE_TIMEOUT_SECONDS))
    assert message["type"] == "log" and set(message) == {"type", "log"}
    return message["log"]


async def _assert_silent(socket: ClientConnection, seconds: float = 0.6) -> None:
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(socket.recv(), seconds)


@pytest.fixture
def ws_url(base_url: str) -> str:
    return base_url.replace("http://", "ws://") + "/api/logs/out"


@pytest.fixture
async def other_process(settings: Settings, database: Database) -> AsyncIterator[httpx.AsyncClient]:
    """A second API server on the same database, as a second process behind a load balancer would be: lines posted
    to it must reach subscribers of the first."""
    sockets = tornado.netutil.bind_sockets(0, "127.0.0.1")
    server = tornado.httpserver.HTTPServer(make_app(ServerContext(settings=settings, database=database), ui=False))
    server.add_sockets(sockets)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{sockets[0].getsockname()[1]}/api", timeout=30) as http:
        yield http
    server.stop()
    await server.close_all_connections()


async def test_new_matching_lines_stream_from_any_server(
    ws_url: str, client: httpx.AsyncClient, other_process: httpx.AsyncClient
) -> None:
    run, other_run = str(uuid.uuid4()), str(uuid.uuid4())
    assert (await client.post("/logs/", json=[_log(run, "before the subscription")])).status_code == 201
    socket = await _subscribe(ws_url, _live({"flow_run_id": {"any_": [run]}, "level": {"ge_": 20}}))
    async with socket:
        batch = [_log(run, "too quiet", level=10), _log(other_run, "another run's"), _log(run, "wanted", seconds=1)]
        assert (await other_process.post("/logs/", json=batch)).status_code == 201
        line = await _next_log(socket)
        assert set(line) == LOG_FIELDS
        assert (line["message"], line["level"], line["flow_run_id"], line["task_run_id"]) == ("wanted", 20, run, None)
        assert line["name"] == "prefect.flow_runs" and dt.datetime.fromisoformat(line["timestamp"]) > NOW
        # The line as /logs/filter returns it, id included (the client skips ids it has already seen).
        stored = await client.post(
            "/logs/filter", json={"logs": {"flow_run_id": {"any_": [run]}, "level": {"ge_": 20}}}
        )
        assert [item["id"] for item in stored.json()][-1] == line["id"]

        assert (await client.post("/logs/", json=[_log(run, "second", level=40, seconds=2)])).status_code == 201
        assert (await _next_log(socket))["message"] == "second"
        await _assert_silent(socket)  # no backfill of the line written before, no other run's, none too quiet


async def test_legacy_clients_skip_the_auth_step(ws_url: str, client: httpx.AsyncClient) -> None:
    run = str(uuid.uuid4())
    async with connect(ws_url) as socket:
        assert socket.subprotocol is None
        await socket.send(json.dumps({"type": "filter", "filter": {"flow_run_id": {"any_": [run]}}}))
        await _assert_silent(socket, 0.3)
        assert (await client.post("/logs/", json=[_log(run, "legacy")])).status_code == 201
        assert (await _next_log(socket))["message"] == "legacy"


# Each conversation and the close code and reason it must end with.
BAD_CONVERSATIONS = [
    ([json.dumps({"type": "filter", "filter": {}})], 1008, "auth"),
    ([json.dumps({"type": "auth"}), json.dumps({"type": "hello"})], 1002, "filter"),
    ([json.dumps({"type": "auth"}), "[1, 2"], 1002, "filter"),
    ([json.dumps({"type": "auth"}), json.dumps({"type": "filter"})], 1002, "Invalid filter"),
    ([json.dumps({"type": "auth"}), json.dumps({"type": "filter", "filter": {"bogus": 1}})], 1002, "bogus"),
    ([json.dumps({"type": "auth"}), json.dumps({"type": "filter", "filter": {"level": {"ge_": "x"}}})], 1002, "ge_"),
]


async def test_bad_messages_close_the_socket(ws_url: str) -> None:
    for messages, code, reason in BAD_CONVERSATIONS:
        async with connect(ws_url, subprotocols=[Subprotocol("prefect")]) as socket:
            for message in messages:
                await socket.send(message)
            with pytest.raises(ConnectionClosed) as closed:
                while True:
                    await asyncio.wait_for(socket.recv(), LIVE_TIMEOUT_SECONDS)
        assert closed.value.rcvd is not None
        assert (closed.value.rcvd.code, reason in closed.value.rcvd.reason) == (code, True), closed.value.rcvd


async def test_the_stream_selects_what_logs_filter_selects(client: httpx.AsyncClient) -> None:
    """`log_matches` (the stream's filter, in memory) against `/logs/filter` (the same filter in SQL)."""
    run, task = str(uuid.uuid4()), str(uuid.uuid4())
    batch = [
        _log(run, "hello world", level=10),
        _log(run, "Hello debug", level=20, seconds=5),
        _log(run, "task says hi", level=30, task_run_id=task, seconds=10),
        _log(run, "an error", level=40, seconds=20),
        _log(None, "no run at all", level=50, seconds=30),
    ]
    assert (await client.post("/logs/", json=batch)).status_code == 201
    rows = (await client.post("/logs/filter", json={})).json()
    later = (NOW + dt.timedelta(seconds=5)).isoformat()
    filters: list[dict[str, Any]] = [
        {},
        {"level": {"ge_": 20, "le_": 40}},
        {"timestamp": {"after_": later}},
        {"timestamp": {"before_": later}},
        {"flow_run_id": {"any_": [run]}},
        {"task_run_id": {"is_null_": False}},
        {"task_run_id": {"is_null_": True}, "flow_run_id": {"any_": [run]}},
        {"task_run_id": {"any_": [task]}},
        {"text": {"query": "hello -debug"}},
        {"text": {"query": '+error "an err"'}},
        {"level": {"ge_": 50}, "task_run_id": {"any_": [task]}, "operator": "or_"},
    ]
    # The rows as the stream reads them from the database: datetimes and UUIDs, not strings.
    for row in rows:
        row["timestamp"] = dt.datetime.fromisoformat(row["timestamp"])
        row["flow_run_id"], row["task_run_id"] = (
            uuid.UUID(v) if v else None for v in (row["flow_run_id"], row["task_run_id"])
        )
    counts = []
    for spec in filters:
        selected = [row["id"] for row in (await client.post("/logs/filter", json={"logs": spec})).json()]
        matched = [row["id"] for row in rows if log_matches(LogFilter.model_validate(spec), row)]
        assert matched == selected, spec
        counts.append(len(selected))
    assert counts == [5, 3, 4, 2, 4, 1, 3, 1, 1, 1, 2]
