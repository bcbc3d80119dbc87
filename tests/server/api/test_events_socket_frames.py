"""The events socket reads frames however TCP delivers them: many in one segment, one split over several, a
fragmented message, control frames in between (baton/server/buffered_websocket.py)."""

# The pipeline's fixtures (settings, server_context, pipeline) are imported from tests/pipeline.py and taken as
# parameters by name, which ruff reads as redefinitions.
# ruff: noqa: F811

from __future__ import annotations

import asyncio
import datetime as dt
import json
import uuid
from typing import Any

from websockets.asyncio.client import connect
from websockets.frames import Frame, Opcode

from baton.server.context import ServerContext
from tests.pipeline import (  # noqa: F401  (fixtures)
    events_in_url,
    eventually,
    pipeline,
    pipeline_settings,
    running_pipeline,
    server_context,
    settings,
    stored_event_ids,
)


def _event() -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "occurred": dt.datetime.now(dt.UTC).isoformat(),
        "event": "test.frames.arrived",
        "resource": {"prefect.resource.id": "test.resource.frames"},
        "payload": {"padding": "x" * 200},  # over 125 bytes: a 16-bit length
    }


def _wire(opcode: Opcode, data: bytes, *, fin: bool = True) -> bytes:
    return Frame(opcode, data, fin=fin).serialize(mask=True)


async def test_frames_are_read_whole_split_coalesced_and_fragmented(base_url: str, pipeline: ServerContext) -> None:
    events = [_event() for _ in range(8)]
    texts = [json.dumps(event).encode() for event in events]
    async with connect(events_in_url(base_url)) as socket:
        write = socket.transport.write
        write(b"".join(_wire(Opcode.TEXT, text) for text in texts[:3]))  # three frames in one segment
        split = _wire(Opcode.TEXT, texts[3])
        for part in (split[:1], split[1:3], split[3:9], split[9:]):  # header, length, mask and payload apart
            write(part)
            await asyncio.sleep(0.02)
        for byte in _wire(Opcode.TEXT, texts[4]):
            write(bytes([byte]))
        write(_wire(Opcode.BINARY, texts[5]))
        # A message in two fragments with a ping between them, then a frame that shares its segment with the last.
        write(_wire(Opcode.TEXT, texts[6][:50], fin=False) + _wire(Opcode.PING, b"between"))
        write(_wire(Opcode.CONT, texts[6][50:]) + _wire(Opcode.TEXT, texts[7]))
        pong = await socket.ping(b"after")
        await asyncio.wait_for(pong, 10)

    expected = {event["id"] for event in events}
    assert await eventually(lambda: _received_all(pipeline, expected)) == expected


async def _received_all(pipeline: ServerContext, expected: set[str]) -> set[str] | None:
    stored = await stored_event_ids(pipeline)
    return stored if expected <= stored else None


async def test_a_frame_over_the_limit_in_the_buffer_still_closes_with_1009(base_url: str) -> None:
    from baton.server.api.events_in import MAX_FRAME_BYTES

    async with connect(events_in_url(base_url), max_size=None) as socket:
        socket.transport.write(
            _wire(Opcode.TEXT, json.dumps(_event()).encode()) + _wire(Opcode.TEXT, b"x" * (MAX_FRAME_BYTES + 1))
        )
        await socket.wait_closed()
    assert socket.close_code == 1009
