"""The retention job: the beat sends it, and one run of it deletes what is past each kind's setting."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from baton.actors.retention import prune_expired_data
from baton.actors.runtime import ActorRuntime
from baton.actors.setup import ACTOR_FUNCTIONS, periodic_jobs
from baton.queue import messages
from baton.server.database import tables as t
from baton.server.database.engine import Database
from baton.settings import Settings
from tests.server.models.retention_rows import Rows


async def test_one_run_deletes_what_its_settings_expire(database: Database, tmp_path: Path) -> None:
    async with database.write() as connection:
        rows = Rows(connection)
        kept_entry = await rows.audit_entry(29)
        await rows.audit_entry(31)
        kept_event = await rows.event(1)
        await rows.event(8)
    settings = Settings(home=tmp_path, api_database_connection_url="sqlite://", audit_retention_days=30)

    await prune_expired_data(ActorRuntime(settings, broker=None, database=database))  # type: ignore[arg-type]

    async with database.read() as connection:
        entries = set(await connection.scalars(sa.select(t.audit_entry.c.id)))
        events = set(await connection.scalars(sa.select(t.events.c.id)))
    assert (entries, events) == ({kept_entry}, {kept_event})


def test_the_beat_sends_the_job_at_its_interval(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, services_retention_loop_seconds=120)
    jobs = {job.name: job for job in periodic_jobs(settings)}
    assert jobs[messages.PRUNE_EXPIRED_DATA].interval == 120
    assert ACTOR_FUNCTIONS[messages.PRUNE_EXPIRED_DATA] is prune_expired_data
