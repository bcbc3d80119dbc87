"""Recording a batch of queued events on PostgreSQL in one statement that reads the batch's JSON itself.

The batch arrives as the JSON text of a list of events. PostgreSQL parses it once (`jsonb_array_elements`) and
inserts the events, upserts the task runs their `prefect.task-run.*` events describe and inserts those runs' states,
all in one statement and one round trip. Done in Python, the same work (decoding, building rows, encoding a column
array per column) was a large part of the services' CPU per event.

The statement applies the rules of `task_run_recorder.task_run_from_event` to the events every Prefect client sends
(the *plain* ones: each field of the type the client writes). A client task-run event that is not plain is only
inserted as an event here; its ordinal comes back so that the caller records its task run with the Python recorder,
which knows every spelling the rules accept and logs why an event is refused. Both writes are idempotent (a stored
event or state id is skipped, a run only takes a newer state), so which of the two records a run does not matter.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from baton.server.database import tables as t
from baton.server.database.dialects.postgresql_array_insert import conflict_clause
from baton.server.database.engine import Database
from baton.server.database.types import utcnow
from baton.server.models.events.recorder import record_left_over
from baton.server.models.runs.task_run_recorder import NEWER_STATE_WINS
from baton.states import TERMINAL_STATE_VALUES

if TYPE_CHECKING:
    from baton.server.database.dialects.base import AfterRecording

# An ISO-8601 date and time as clients write it (the rest is left to PostgreSQL: a time it cannot read fails the
# statement, and the batch goes to the Python recorder). LIKE, not a regular expression: the regular expressions
# these checks would need cost PostgreSQL much more time per event than the rest of the statement.
_ISO_TIME = "____-__-__T__:__:__%"


def _of_type(field: str, *types: str) -> str:
    """`field` (a jsonb expression) is missing, JSON null or of one of `types`."""
    return f"COALESCE(jsonb_typeof({field}), 'null') IN ({', '.join(repr(name) for name in (*types, 'null'))})"


def _time(field: str) -> str:
    return f"CAST(NULLIF(f->>'{field}', '') AS timestamptz)"


def _object_or_empty(field: str, empty: str) -> str:
    return f"COALESCE(NULLIF({field}, 'null'::jsonb), '{empty}'::jsonb)"


# The terminal state types as an SQL list of text literals (constants, so written into the statement's text).
_TERMINAL = ", ".join(f"'{value}'" for value in TERMINAL_STATE_VALUES)
_TIME_FIELDS = ("cache_expiration", "expected_start_time", "next_scheduled_start_time", "start_time", "end_time")
_PLAIN = " AND ".join(
    [
        "jsonb_typeof(f) = 'object'",
        "jsonb_typeof(v) = 'object'",
        "starts_with(resource_id, 'prefect.task-run.')",
        "(flow_run_ref IS NULL OR starts_with(flow_run_ref, 'prefect.flow-run.'))",
        "jsonb_typeof(f->'task_key') = 'string'",
        "f->>'task_key' <> ''",
        "jsonb_typeof(f->'dynamic_key') = 'string'",
        "jsonb_typeof(v->'type') = 'string'",
        "v->>'type' <> ''",
        "jsonb_typeof(v->'name') = 'string'",
        "v->>'name' <> ''",
        _of_type("v->'message'", "string"),
        _of_type("v->'state_details'", "object"),
        _of_type("f->'name'", "string"),
        _of_type("f->'cache_key'", "string"),
        _of_type("f->'task_version'", "string"),
        _of_type("f->'tags'", "array"),
        _of_type("f->'empirical_policy'", "object"),
        _of_type("f->'task_inputs'", "object"),
        _of_type("f->'labels'", "object"),
        _of_type("f->'total_run_time'", "number"),
        _of_type("f->'run_count'", "number"),
        _of_type("f->'flow_run_run_count'", "number"),
        *(_of_type(f"f->'{name}'", "string") for name in _TIME_FIELDS),
        *(f"(COALESCE(f->>'{name}', '') = '' OR f->>'{name}' LIKE '{_ISO_TIME}')" for name in _TIME_FIELDS),
    ]
)


# PostgreSQL runs the data-modifying CTEs that the main query does not read after it, last written first: the states,
# then the events, then the task runs. The task runs go last because their rows stay locked until the commit, and a
# batch holding a run another batch is recording (a run's events split between two batches that are recorded at the
# same time) makes that one wait: it now waits for the upsert and the commit, not also for the events' insert.
def _statement(returning_new_events: bool) -> sa.TextClause:
    """The statement; with `returning_new_events`, its rows also carry the JSON text of the events it inserted whose
    names are LIKE one of the `names` parameter's patterns (the first of each id, as the batch has it): PostgreSQL
    has parsed the batch already, and the caller decodes only those events instead of the whole batch."""
    returning = "RETURNING id" if returning_new_events else ""
    new_events = (
        """UNION ALL
SELECT NULL, NULL, CAST(e AS text) FROM (
    SELECT DISTINCT ON (r.id) r.e
    FROM event_rows r JOIN stored_events s ON s.id = r.id
    WHERE r.e->>'event' LIKE ANY(CAST(:names AS text[]))
    ORDER BY r.id, r.n
) AS new_events"""
        if returning_new_events
        else ""
    )
    return sa.text(
        f"""
WITH batch AS MATERIALIZED (
    SELECT b.e, b.n FROM jsonb_array_elements(CAST(:batch AS jsonb)) WITH ORDINALITY AS b(e, n)
),
event_rows AS (
    SELECT n, CAST(e->>'id' AS uuid) AS id, e,
           {_object_or_empty("e->'related'", "[]")} AS related
    FROM batch
),
task_events AS MATERIALIZED (
    SELECT n, e->>'id' AS state_id, e->>'occurred' AS occurred,
           e->'resource'->>'prefect.resource.name' AS resource_name,
           e->'resource'->>'prefect.state-type' AS state_type_label, e->'payload'->'task_run' AS f,
           e->'payload'->'validated_state' AS v, e->'resource'->>'prefect.resource.id' AS resource_id,
           jsonb_path_query_first(
               e->'related', '$[*] ? (@."prefect.resource.role" == "flow-run")."prefect.resource.id"'
           ) #>> '{{}}' AS flow_run_ref
    FROM batch
    WHERE starts_with(e->>'event', 'prefect.task-run.') AND e->'resource'->>'prefect.orchestration' = 'client'
),
task_checks AS MATERIALIZED (
    SELECT *, ({_PLAIN}) IS TRUE AS plain FROM task_events
),
task_rows AS MATERIALIZED (
    SELECT n, f, v, resource_name,
           CAST(substr(resource_id, 18) AS uuid) AS task_run_id,
           CAST(substr(flow_run_ref, 18) AS uuid) AS flow_run_id,
           CAST(state_id AS uuid) AS state_id,
           CAST(occurred AS timestamptz) AS occurred,
           state_type_label IN ({_TERMINAL}) AS terminal
    FROM task_checks
    WHERE plain
),
stored_runs AS (
    INSERT INTO task_run (id, created, updated, name, flow_run_id, task_key, dynamic_key, cache_key, cache_expiration,
                          task_version, flow_run_run_count, empirical_policy, task_inputs, tags, labels, state_id,
                          state_type, state_name, state_timestamp, run_count, expected_start_time,
                          next_scheduled_start_time, start_time, end_time, total_run_time)
    SELECT DISTINCT ON (task_run_id)
           task_run_id, :now, :now,
           COALESCE(NULLIF(f->>'name', ''), NULLIF(resource_name, ''), CAST(task_run_id AS text)),
           flow_run_id, f->>'task_key', f->>'dynamic_key', f->>'cache_key', {_time("cache_expiration")},
           f->>'task_version', CAST(COALESCE(f->>'flow_run_run_count', '0') AS int4),
           {_object_or_empty("f->'empirical_policy'", "{}")}, {_object_or_empty("f->'task_inputs'", "{}")},
           {_object_or_empty("f->'tags'", "[]")}, {_object_or_empty("f->'labels'", "{}")},
           state_id, v->>'type', v->>'name', occurred, CAST(COALESCE(f->>'run_count', '0') AS int4),
           {_time("expected_start_time")}, {_time("next_scheduled_start_time")}, {_time("start_time")},
           {_time("end_time")}, COALESCE(CAST(f->>'total_run_time' AS float8), 0)
    FROM task_rows
    ORDER BY task_run_id, occurred DESC, n
    {conflict_clause(t.task_run, NEWER_STATE_WINS)}
),
stored_events AS (
    INSERT INTO events (id, created, updated, occurred, event, resource_id, resource, related_resource_ids, related,
                        payload, received, recorded, follows)
    SELECT DISTINCT ON (id)
           id, :now, :now, CAST(e->>'occurred' AS timestamptz), e->>'event', e->'resource'->>'prefect.resource.id',
           e->'resource', jsonb_path_query_array(related, '$[*]."prefect.resource.id"'), related,
           {_object_or_empty("e->'payload'", "{}")},
           COALESCE(CAST(e->>'received' AS timestamptz), :now), :now, CAST(e->>'follows' AS uuid)
    FROM event_rows
    ORDER BY id, n
    ON CONFLICT (id) DO NOTHING
    {returning}
),
stored_states AS (
    INSERT INTO task_run_state (id, created, updated, task_run_id, type, name, timestamp, message, state_details,
                                data, result_artifact_id)
    SELECT state_id, :now, :now, task_run_id, v->>'type', v->>'name', occurred, v->>'message',
           {_object_or_empty("v->'state_details'", "{}")}
               || jsonb_build_object('task_run_id', CAST(task_run_id AS text))
               || CASE WHEN flow_run_id IS NULL THEN '{{}}'::jsonb
                       ELSE jsonb_build_object('flow_run_id', CAST(flow_run_id AS text)) END,
           NULLIF(v->'data', 'null'::jsonb), NULL
    FROM task_rows
    ORDER BY state_id
    ON CONFLICT (id) DO NOTHING
)
SELECT n AS left_over, NULL AS finished, CAST(NULL AS text) AS new_event FROM task_checks WHERE NOT plain
UNION ALL
SELECT NULL, task_run_id, NULL FROM task_rows WHERE terminal
{new_events}
"""
    )


_STATEMENTS = {returning: _statement(returning) for returning in (False, True)}


# An event name matching this LIKE pattern: every one.
ANY_NAME = "%"


def like_pattern(glob: str) -> str:
    """The LIKE pattern (backslash escapes) of an event-name glob (`*`, `?`); a glob LIKE cannot say (a character
    class, a negation) becomes ANY_NAME: more events are returned, and the caller's own matching drops them."""
    if glob.startswith("!") or "[" in glob:
        return ANY_NAME
    escaped = glob.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped.replace("*", "%").replace("?", "_")


def like_patterns(globs: Sequence[str] | None) -> list[str]:
    """The LIKE patterns of `globs` (None: every name)."""
    if globs is None:
        return [ANY_NAME]
    patterns = {like_pattern(glob) for glob in globs}
    return [ANY_NAME] if ANY_NAME in patterns else sorted(patterns)


@dataclass(frozen=True)
class RecordedBatch:
    """What the statement left to the caller."""

    #: Positions (0-based) of client task-run events whose task runs the Python recorder must record.
    left_over: list[int]
    #: Task runs the batch shows entering a terminal state (their concurrency leases are released).
    finished: list[uuid.UUID]
    #: The events the statement inserted whose names were asked for (`names`; none without), decoded.
    new_events: list[dict[str, Any]]


async def execute_batch_statement(
    connection: AsyncConnection, batch_json: str, now: dt.datetime, *, names: Sequence[str] | None = None
) -> RecordedBatch:
    """Insert the events of `batch_json` (a JSON list of queued events) and record the task runs of its plain client
    task-run events, in one statement; with `names` (LIKE patterns), return the inserted events whose names match
    one. A batch the statement cannot take (a value PostgreSQL cannot read, a run whose flow run is gone) raises
    `sqlalchemy.exc.DataError` or `IntegrityError`, with nothing written."""
    parameters: dict[str, Any] = {"batch": batch_json, "now": now}
    if names is not None:
        parameters["names"] = list(names)
    rows = (await connection.execute(_STATEMENTS[names is not None], parameters)).all()
    left_over = sorted(int(row.left_over) - 1 for row in rows if row.left_over is not None)
    finished = [row.finished for row in rows if row.finished is not None]
    new_events = [orjson.loads(row.new_event) for row in rows if row.new_event is not None]
    return RecordedBatch(left_over, finished, new_events)


async def record_in_one_statement(database: Database, batch_json: str, then: AfterRecording | None = None) -> None:
    """Record `batch_json` in one transaction: the statement, then the task runs of the events it left to the Python
    recorder, then the release of the finished runs' concurrency slots, then `then` with the new events whose names
    it asked for. Raises as `execute_batch_statement` does."""
    async with database.write() as connection:
        names = like_patterns(then.names) if then is not None else None
        recorded = await execute_batch_statement(connection, batch_json, utcnow(), names=names)
        left_over = []
        if recorded.left_over:
            events = orjson.loads(batch_json)
            left_over = [events[position] for position in recorded.left_over]
        await record_left_over(connection, left_over, recorded.finished)
        if then is not None:
            await then.run(connection, recorded.new_events)
