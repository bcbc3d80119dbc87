"""The Python recorder of queued event batches: the events, the task runs their client task-run events describe, and
the release of the concurrency slots of the task runs they finish.

It is the reference: a dialect may record a batch faster (`DatabaseDialect.record_event_batch`), and must store the
same rows as this (tests/server/database/dialects/test_postgresql_event_batch.py).
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncConnection

from baton.server.database.dialects import dialect_of
from baton.server.database.engine import Database
from baton.server.models.concurrency.concurrency_leases import release_leases_of_holders
from baton.server.models.events.events import event_rows, insert_event_rows, insert_new_event_rows
from baton.server.models.runs.task_run_recorder import (
    finished_task_runs,
    is_client_task_run_event,
    prepare_task_runs,
    write_task_runs,
)

if TYPE_CHECKING:
    from baton.server.database.dialects.base import AfterRecording


async def record_events_in_python(
    database: Database, events: list[dict[str, Any]], then: AfterRecording | None = None
) -> None:
    """Store `events` and the task runs they describe, and release the slots of the runs they finish, in one
    transaction, then run `then` in it with the events that were new (see `DatabaseDialect.record_event_batch`)."""
    # Rows (and the task-run statements) are built before the transaction opens: it then holds its task-run row
    # locks only for the round trips, and concurrent batches that share task runs wait on each other for less.
    rows = event_rows(events)
    task_run_events = [event for event in events if is_client_task_run_event(event)]
    task_runs = prepare_task_runs(task_run_events, database.dialect)
    finished = finished_task_runs(task_run_events)
    async with database.write() as connection:
        if then is None:
            await insert_event_rows(connection, rows)
        else:
            new_event_ids = await insert_new_event_rows(connection, rows)
        await write_task_runs(connection, task_runs)
        await release_leases_of_holders(connection, finished)
        if then is not None:
            await then.run(connection, first_of_ids(events, new_event_ids))


def first_of_ids(events: list[dict[str, Any]], ids: set[uuid.UUID]) -> list[dict[str, Any]]:
    """The first event of `events` with each of `ids`, in batch order."""
    wanted = set(ids)
    found = []
    for event in events:
        event_id = uuid.UUID(str(event["id"]))
        if event_id in wanted:
            wanted.discard(event_id)
            found.append(event)
    return found


async def record_left_over(
    connection: AsyncConnection, left_over: list[dict[str, Any]], finished: list[uuid.UUID]
) -> None:
    """After a faster recorder stored a batch's events: record the task runs of the client task-run events it left
    (`left_over`), and release the slots of the runs in `finished` and of those `left_over` finishes."""
    if left_over:
        await write_task_runs(connection, prepare_task_runs(left_over, dialect_of(connection)))
        finished = finished + finished_task_runs(left_over)
    await release_leases_of_holders(connection, finished)
