"""The /events/out websocket and the live event stream, on SQLite and PostgreSQL, over real sockets on loopback."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from baton.server.database import tables as t
from baton.server.database.engine import Database
from baton.server.events_stream import EventStream, SubscriberTooSlow
from baton.server.models.events.events import event_row
from baton.server.schemas.event_filters import EventFilter
from tests.server.api.events_helpers import event, seed
from tests.server.api.prefect_client_script import prefect_environment

# A live event reaches a subscriber within a poll (0.25 s); anything near this is a failure.
LIVE_TIMEOUT_SECONDS = 2.0
CLIENT_TIMEOUT_SECONDS = 60
LIVE_FILTER_UNTIL = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).isoformat()


@pytest.fixture
def ws_url(base_url: str) -> str:
    return base_url.replace("http://", "ws://") + "/api/events/out"


@pytest.fixture
async def subscriber(ws_url: str) -> AsyncIterator[ClientConnection]:
    """A websocket that completed the `prefect` auth handshake."""
    async with connect(ws_url, subprotocols=[Subprotocol("prefect")]) as socket:
        await socket.send(json.dumps({"type": "auth", "token": None}))
        assert json.loads(await socket.recv()) == {"type": "auth_success"}
        yield socket


def _live(spec: dict[str, Any] | None = None, since: dt.datetime | None = None) -> dict[str, Any]:
    """A filter as the official client sends it: until a year ahead, so that future events match."""
    occurred = {"since": (since or dt.datetime.now(dt.UTC) - dt.timedelta(days=1)).isoformat()}
    return {**(spec or {}), "occurred": {**occurred, "until": LIVE_FILTER_UNTIL}}


async def _next_event(socket: ClientConnection) -> dict[str, Any]:
    message = json.loads(await asyncio.wait_for(socket.recv(), LIVE_TIMEOUT_SECONDS))
    assert message["type"] == "event"
    return message["event"]


async def _assert_silent(socket: ClientConnection, seconds: float = 0.6) -> None:
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(socket.recv(), seconds)


async def test_backfill_then_live_events(subscriber: ClientConnection, database: Database) -> None:
    now = dt.datetime.now(dt.UTC)
    await seed(
        database,
        event("seen.second", "r", now - dt.timedelta(minutes=2)),
        event("seen.first", "r", now - dt.timedelta(minutes=5)),
        # Further back than the 15 minutes a subscriber may look, whatever its filter says.
        event("seen.too-old", "r", now - dt.timedelta(minutes=20)),
        event("other", "r", now - dt.timedelta(minutes=1)),
    )
    spec = _live({"event": {"prefix": ["seen."]}}, since=now - dt.timedelta(hours=1))
    await subscriber.send(json.dumps({"type": "filter", "filter": spec, "backfill": True}))
    backfilled = [await _next_event(subscriber), await _next_event(subscriber)]
    assert [item["event"] for item in backfilled] == ["seen.first", "seen.second"]
    assert backfilled[0]["resource"] == {"prefect.resource.id": "r"}
    assert backfilled[0]["received"]

    (live,) = await seed(database, event("seen.live", "r2", payload={"n": 1}))
    received = await _next_event(subscriber)
    assert (received["id"], received["event"], received["payload"]) == (live["id"], "seen.live", {"n": 1})
    await _assert_silent(subscriber)


async def test_an_excluded_event_is_not_delivered(subscriber: ClientConnection, database: Database) -> None:
    await subscriber.send(json.dumps({"type": "filter", "filter": _live({"resource": {"id": ["wanted"]}})}))
    await _assert_silent(subscriber, 0.3)  # nothing to backfill
    await seed(database, event("x.one", "unwanted"))
    await seed(database, event("x.two", "wanted"))
    assert (await _next_event(subscriber))["event"] == "x.two"
    await _assert_silent(subscriber)


async def test_legacy_clients_skip_the_auth_step(ws_url: str, database: Database) -> None:
    await seed(database, event("legacy.backfilled", "r", dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)))
    async with connect(ws_url) as socket:
        assert socket.subprotocol is None
        await socket.send(json.dumps({"type": "filter", "filter": _live(), "backfill": False}))
        # No backfill, so nothing tells when the subscription has started; the earlier event never comes.
        await _assert_silent(socket, 0.3)
        await seed(database, event("legacy.live", "r"))
        assert (await _next_event(socket))["event"] == "legacy.live"


@pytest.mark.parametrize(
    ("messages", "code", "reason"),
    [
        (["not json"], 1008, "auth"),
        ([json.dumps({"type": "filter", "filter": {}})], 1008, "auth"),
        ([json.dumps({"type": "auth"}), json.dumps({"type": "hello"})], 1002, "filter"),
        ([json.dumps({"type": "auth"}), "{"], 1002, "filter"),
        ([json.dumps({"type": "auth"}), json.dumps({"type": "filter", "filter": {"bogus": 1}})], 1002, "bogus"),
    ],
)
async def test_bad_messages_close_the_socket(ws_url: str, messages: list[str], code: int, reason: str) -> None:
    async with connect(ws_url, subprotocols=[Subprotocol("prefect")]) as socket:
        for message in messages:
            await socket.send(message)
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                await asyncio.wait_for(socket.recv(), LIVE_TIMEOUT_SECONDS)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == code
    assert reason in closed.value.rcvd.reason


async def test_stream_catches_late_commits_and_drops_slow_subscribers(database: Database) -> None:
    stream = EventStream(database, poll_interval=0.05, backlog=2)
    spec = EventFilter.model_validate(_live())
    async with stream.subscribe(spec) as subscription:
        assert stream.running
        await seed(database, event("first", "r"))
        assert (await asyncio.wait_for(subscription.get(), LIVE_TIMEOUT_SECONDS))["event"] == "first"
        # A transaction that committed after `first` but took its recorded time before it.
        late = event("late", "r")
        async with database.write() as connection:
            recorded = (await connection.execute(sa.select(t.events.c.recorded))).scalar_one()
            await connection.execute(sa.insert(t.events), [event_row(late, recorded - dt.timedelta(seconds=1))])
        assert str((await asyncio.wait_for(subscription.get(), LIVE_TIMEOUT_SECONDS))["id"]) == late["id"]

        await seed(database, *(event(f"burst-{index}", "r") for index in range(3)))
        for _ in range(40):
            if subscription.too_slow:
                break
            await asyncio.sleep(0.05)
        with pytest.raises(SubscriberTooSlow):
            await subscription.get()
        assert stream.subscriber_count == 0
    assert not stream.running


CLIENT_SCRIPT = """
import asyncio, json, sys
from prefect.events.clients import get_events_subscriber
from prefect.events.filters import EventFilter, EventNameFilter

async def main():
    spec = EventFilter(event=EventNameFilter(prefix=["client."]))
    async with get_events_subscriber(filter=spec, reconnection_attempts=0) as subscriber:
        print("ready", flush=True)
        for _ in range(2):
            event = await subscriber.__anext__()
            print(json.dumps({"event": event.event, "resource": event.resource.id}), flush=True)

asyncio.run(main())
"""


async def test_official_prefect_subscriber(base_url: str, database: Database, tmp_path: Path) -> None:
    """PrefectEventSubscriber (in a subprocess, to keep Prefect's global settings out of pytest) gets the
    backfilled event and then a live one."""
    await seed(database, event("client.before", "r1", dt.datetime.now(dt.UTC) - dt.timedelta(seconds=20)))
    await seed(database, event("skipped", "r1", dt.datetime.now(dt.UTC) - dt.timedelta(seconds=10)))
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        CLIENT_SCRIPT,
        env=prefect_environment(base_url, tmp_path),
        cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        ready = await asyncio.wait_for(process.stdout.readline(), CLIENT_TIMEOUT_SECONDS)
        assert ready.decode().strip() == "ready"
        await seed(database, event("client.live", "r2"))
        stdout, stderr = await asyncio.wait_for(process.communicate(), CLIENT_TIMEOUT_SECONDS)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0, stderr.decode()[-4000:]
    received = [json.loads(line) for line in stdout.decode().splitlines() if line.strip()]
    assert received == [{"event": "client.before", "resource": "r1"}, {"event": "client.live", "resource": "r2"}]
