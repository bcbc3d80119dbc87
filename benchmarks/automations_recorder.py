"""The events recorder's own CPU per 1000 task-run events, with `automations.py`'s mix of automations or none.

`automations.py` measures the whole pipeline, whose figures swing with whatever else runs on the machine; this one
runs `record_events` (the actor's function, in this process, on a scratch PostgreSQL database) over batches of the
events benchmark's task-run events and reports the process's CPU time per 1000 events, which moves much less with
the machine's load. The batches are the events of `--events` task runs' states of 32 flow runs interleaved, as the
API's publisher queues them, `--batch` events each; the first batch warms up and is not counted.

    .venv/bin/python benchmarks/automations_recorder.py                    # 100 automations
    .venv/bin/python benchmarks/automations_recorder.py --automations 0    # the recorder alone
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import sys
import time
import uuid
from pathlib import Path

import asyncpg
import orjson
import sqlalchemy as sa
from dramatiq.brokers.stub import StubBroker

sys.path.insert(0, str(Path(__file__).parent))
import automations as mix  # noqa: E402
import events_ingest as ingest  # noqa: E402

from baton.actors import events as event_actors  # noqa: E402
from baton.actors.runtime import ActorRuntime  # noqa: E402
from baton.server.database import tables as t  # noqa: E402
from baton.server.database.engine import Database  # noqa: E402
from baton.server.database.migrate import upgrade  # noqa: E402
from baton.server.models.automations.automations import create_automation  # noqa: E402
from baton.server.schemas.automations import AutomationCreate  # noqa: E402

FLOW_RUNS = 32


async def prepare(database: Database, automations: int, busy_per_50: int) -> list[ingest.FlowRunRef]:
    """A flow, FLOW_RUNS flow runs and the automations; the flow runs."""
    runs = []
    async with database.write() as connection:
        flow_id = uuid.uuid4()
        await connection.execute(sa.insert(t.flow).values(id=flow_id, name="bench", tags=[]))
        for index in range(FLOW_RUNS):
            run_id = uuid.uuid4()
            await connection.execute(sa.insert(t.flow_run).values(id=run_id, flow_id=flow_id, name=f"run-{index}"))
            runs.append(ingest.FlowRunRef(str(run_id), f"run-{index}", str(flow_id), "bench"))
        for body in mix.automation_mix(automations, busy_per_50):
            await create_automation(connection, AutomationCreate.model_validate(body))
    return runs


def batches(runs: list[ingest.FlowRunRef], events: int, size: int) -> list[str]:
    """The queued batches' JSON texts."""
    streams = [list(ingest.build_frames(run, events // len(runs) // 3, 0)) for run in runs]
    frames = [stream[index][0] for index in range(len(streams[0])) for stream in streams]
    received = dt.datetime.now(dt.UTC).isoformat()
    texts = []
    for start in range(0, len(frames), size):
        queued = [{**orjson.loads(frame), "received": received} for frame in frames[start : start + size]]
        texts.append(orjson.dumps(queued).decode())
    return texts


async def measure(args: argparse.Namespace) -> dict[str, float | int]:
    name = f"baton_recorder_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(ingest.PG_ADMIN_DSN)
    await admin.execute(f'CREATE DATABASE "{name}"')
    database = Database(ingest.PG_URL.format(name=name))
    await database.open()
    try:
        await upgrade(database)
        runs = await prepare(database, args.automations, args.busy_per_50)
        texts = batches(runs, args.events, args.batch)
        runtime = ActorRuntime(None, StubBroker(), database)
        await event_actors.record_events(runtime, texts[0])
        counted = sum(len(orjson.loads(text)) for text in texts[1:])
        cpu, wall = time.process_time(), time.perf_counter()
        for text in texts[1:]:
            await event_actors.record_events(runtime, text)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    finally:
        await database.dispose()
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        await admin.close()
    return {
        "automations": args.automations,
        "events": counted,
        "batch": args.batch,
        "cpu_ms_per_1000_events": round(cpu / counted * 1e6, 1),
        "wall_ms_per_1000_events": round(wall / counted * 1e6, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--automations", type=int, default=100)
    parser.add_argument("--busy-per-50", type=int, default=mix.BUSY_PER_50, help="task-run counting automations per 50")
    parser.add_argument("--events", type=int, default=19_200, help="events in all, 3 per task run")
    parser.add_argument("--batch", type=int, default=400, help="events per queued batch")
    report = asyncio.run(measure(parser.parse_args(argv)))
    print(
        f"Recorder: {report['automations']} automations, {report['events']} events in batches of {report['batch']}: "
        f"{report['cpu_ms_per_1000_events']} ms CPU, {report['wall_ms_per_1000_events']} ms wall per 1000 events"
    )
    print(json.dumps(report), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
