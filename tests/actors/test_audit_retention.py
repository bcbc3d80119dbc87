"""Audit retention: the periodic job deletes entries older than `audit_retention_days` and keeps the rest."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

import sqlalchemy as sa

from baton.actors.audit_retention import trim_audit_log
from baton.actors.runtime import ActorRuntime
from baton.actors.setup import ACTOR_FUNCTIONS, periodic_jobs
from baton.queue import messages
from baton.server.database import tables as t
from baton.server.database.engine import Database
from baton.server.database.types import utcnow
from baton.settings import Settings


def _entry(age_days: float) -> dict[str, object]:
    return {
        "id": uuid.uuid4(),
        "occurred": utcnow() - dt.timedelta(days=age_days),
        "actor_kind": "user",
        "actor_id": None,
        "actor_name": f"age-{age_days}",
        "action": "variable.create",
        "outcome": "success",
        "detail": {},
    }


async def test_entries_past_retention_are_deleted_and_the_rest_kept(database: Database, tmp_path: Path) -> None:
    async with database.write() as connection:
        await connection.execute(sa.insert(t.audit_entry), [_entry(1), _entry(29), _entry(31), _entry(400)])
    settings = Settings(home=tmp_path, api_database_connection_url="sqlite://", audit_retention_days=30)

    await trim_audit_log(ActorRuntime(settings, broker=None, database=database))  # type: ignore[arg-type]

    async with database.read() as connection:
        kept = (await connection.execute(sa.select(t.audit_entry.c.actor_name))).scalars().all()
    assert sorted(kept) == ["age-1", "age-29"]


def test_the_beat_runs_the_job(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    assert messages.TRIM_AUDIT_LOG in {job.name for job in periodic_jobs(settings)}
    assert ACTOR_FUNCTIONS[messages.TRIM_AUDIT_LOG] is trim_audit_log
