"""Flows, flow runs, task runs, their state history, run inputs and logs."""

from __future__ import annotations

import sqlalchemy as sa

from baton.server.database.tables.base import (
    base_columns,
    json_column,
    metadata,
    postgresql_only,
    sqlite_only,
    state_columns,
    state_history_columns,
    trigram_index,
)
from baton.server.database.types import Timestamp

flow = sa.Table(
    "flow",
    metadata,
    *base_columns(),
    sa.Column("name", sa.String(255), nullable=False),
    json_column("tags", default=[], nullable=False),
    json_column("labels", default={}, nullable=True),
    sa.UniqueConstraint("name"),
    trigram_index("flow"),
)

flow_run = sa.Table(
    "flow_run",
    metadata,
    *base_columns(),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("flow_id", sa.Uuid(), sa.ForeignKey("flow.id", ondelete="CASCADE"), nullable=False),
    sa.Column("deployment_id", sa.Uuid(), sa.ForeignKey("deployment.id", ondelete="SET NULL"), nullable=True),
    sa.Column("deployment_version", sa.String(255), nullable=True),
    sa.Column("flow_version", sa.String(255), nullable=True),
    # No foreign key: task runs arrive asynchronously through events, and the subflow may be recorded first.
    sa.Column("parent_task_run_id", sa.Uuid(), nullable=True),
    sa.Column("idempotency_key", sa.String(255), nullable=True),
    json_column("parameters", default={}, nullable=False),
    json_column("context", default={}, nullable=False),
    json_column("empirical_policy", default={}, nullable=False),
    json_column("tags", default=[], nullable=False),
    json_column("labels", default={}, nullable=True),
    json_column("created_by"),
    sa.Column("infrastructure_pid", sa.String(255), nullable=True),
    json_column("job_variables", default={}, nullable=True),
    sa.Column("infrastructure_document_id", sa.Uuid(), nullable=True),
    sa.Column("work_queue_name", sa.String(255), nullable=True),
    sa.Column("work_queue_id", sa.Uuid(), sa.ForeignKey("work_queue.id", ondelete="SET NULL"), nullable=True),
    sa.Column("auto_scheduled", sa.Boolean(), nullable=False, default=False),
    *state_columns(),
    sa.UniqueConstraint("flow_id", "idempotency_key"),
    sa.Index("ix_flow_run__flow_id__start_time", "flow_id", "start_time"),
    sa.Index("ix_flow_run__deployment_id", "deployment_id"),
    sa.Index("ix_flow_run__parent_task_run_id", "parent_task_run_id"),
    sa.Index("ix_flow_run__work_queue_id", "work_queue_id"),
    sa.Index("ix_flow_run__name__id", "name", "id"),
    sa.Index("ix_flow_run__state_type", "state_type"),
    sa.Index("ix_flow_run__state_name", "state_name"),
    # Covers the dashboard's counts per state over a window of expected start times.
    sa.Index("ix_flow_run__expected_start_time__state_type", "expected_start_time", "state_type"),
    # The Prefect client's default order (EXPECTED_START_TIME_DESC, `prefect flow-run ls`), read from the top.
    postgresql_only(
        sa.Index(
            "ix_flow_run__expected_start_time_desc__id",
            sa.text("expected_start_time DESC NULLS LAST"),
            sa.text("id DESC"),
        )
    ),
    sa.Index("ix_flow_run__start_time", "start_time"),
    sa.Index("ix_flow_run__end_time", "end_time"),
    sa.Index("ix_flow_run__next_scheduled_start_time", "next_scheduled_start_time"),
    sa.Index("ix_flow_run__state_type__expected_start_time", "state_type", "expected_start_time"),
    # The scheduler and the late-runs job look only at SCHEDULED runs; a partial index keeps that cheap.
    sa.Index(
        "ix_flow_run__scheduled_by_deployment",
        "deployment_id",
        "auto_scheduled",
        "next_scheduled_start_time",
        postgresql_where=sa.text("state_type = 'SCHEDULED'"),
        sqlite_where=sa.text("state_type = 'SCHEDULED'"),
    ),
    trigram_index("flow_run"),
    postgresql_only(
        sa.Index("gin_ix_flow_run__tags", "tags", postgresql_using="gin", postgresql_ops={"tags": "jsonb_path_ops"})
    ),
)
# The runs pages' sort key and the start-time range of the flow-run filter (baton.server.models.filters.core.
# RUN_START_KEY) with the id, for keyset pages.
sa.Index(
    "ix_flow_run__start_key__id",
    sa.func.coalesce(flow_run.c.start_time, flow_run.c.expected_start_time, flow_run.c.created),
    flow_run.c.id,
)

flow_run_state = sa.Table(
    "flow_run_state",
    metadata,
    *state_history_columns("flow_run"),
    sa.Index("ix_flow_run_state__flow_run_id__timestamp", "flow_run_id", "timestamp"),
    sa.Index("ix_flow_run_state__type", "type"),
)

task_run = sa.Table(
    "task_run",
    metadata,
    *base_columns(),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("flow_run_id", sa.Uuid(), sa.ForeignKey("flow_run.id", ondelete="CASCADE"), nullable=True),
    sa.Column("task_key", sa.String(255), nullable=False),
    sa.Column("dynamic_key", sa.String(255), nullable=False),
    sa.Column("cache_key", sa.String(2000), nullable=True),
    sa.Column("cache_expiration", Timestamp(), nullable=True),
    sa.Column("task_version", sa.String(255), nullable=True),
    sa.Column("flow_run_run_count", sa.Integer(), nullable=False, default=0),
    json_column("empirical_policy", default={}, nullable=False),
    json_column("task_inputs", default={}, nullable=False),
    json_column("tags", default=[], nullable=False),
    json_column("labels", default={}, nullable=True),
    *state_columns(),
    sa.UniqueConstraint("flow_run_id", "task_key", "dynamic_key"),
    sa.Index("ix_task_run__name", "name"),
    sa.Index("ix_task_run__state_type", "state_type"),
    # The dashboard's task-run counts per state over a window of expected start times, from the index alone.
    sa.Index("ix_task_run__expected_start_time__state_type", "expected_start_time", "state_type"),
    sa.Index("ix_task_run__start_time", "start_time"),
    sa.Index("ix_task_run__next_scheduled_start_time", "next_scheduled_start_time"),
    trigram_index("task_run"),
)
# The API's newest-first sorts (`expected_start_time` or `end_time` descending, NULLs last, then id: the Prefect
# client's `task-run ls`, the task-run filter's EXPECTED_START_TIME_DESC and END_TIME_DESC), read in index order
# instead of sorting every task run; they also serve ranges over their time. PostgreSQL needs the NULLs' place in the
# index; SQLite cannot say it there but puts NULLs last in a descending scan of a plain index (migration 0015).
for _column in ("expected_start_time", "end_time"):
    postgresql_only(
        sa.Index(
            f"ix_task_run__{_column}__id",
            task_run.c[_column].desc().nulls_last(),
            task_run.c.id.desc(),
        )
    )
    sqlite_only(sa.Index(f"ix_task_run__{_column}__id", task_run.c[_column], task_run.c.id))
# The Task runs tab's sort key (baton.server.models.views.run_pages.TASK_RUN_START_KEY) with the id, for keyset pages.
sa.Index(
    "ix_task_run__start_key__id",
    sa.func.coalesce(task_run.c.start_time, task_run.c.expected_start_time, task_run.c.created),
    task_run.c.id,
)

task_run_state = sa.Table(
    "task_run_state",
    metadata,
    # Three rows per task run, written by the events pipeline and read by task run (history) or by id: no index on
    # `updated` (states are never updated) or `type` (nothing looks states up by type), two fewer per recorded event.
    *state_history_columns("task_run", index_updated=False),
    sa.Index("ix_task_run_state__task_run_id__timestamp", "task_run_id", "timestamp"),
)

task_run_state_cache = sa.Table(
    "task_run_state_cache",
    metadata,
    *base_columns(),
    sa.Column("cache_key", sa.String(2000), nullable=False),
    sa.Column("cache_expiration", Timestamp(), nullable=True),
    sa.Column("task_run_state_id", sa.Uuid(), nullable=False),
    sa.Index("ix_task_run_state_cache__cache_key_created", "cache_key", "created"),
    # Retention deletes a task run's cache entries with its states.
    sa.Index("ix_task_run_state_cache__task_run_state_id", "task_run_state_id"),
)

flow_run_input = sa.Table(
    "flow_run_input",
    metadata,
    *base_columns(),
    sa.Column("flow_run_id", sa.Uuid(), sa.ForeignKey("flow_run.id", ondelete="CASCADE"), nullable=False),
    sa.Column("key", sa.String(255), nullable=False),
    sa.Column("value", sa.Text(), nullable=False),
    sa.Column("sender", sa.String(255), nullable=True),
    sa.UniqueConstraint("flow_run_id", "key"),
)

log = sa.Table(
    "log",
    metadata,
    *base_columns(),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("level", sa.SmallInteger(), nullable=False),
    # No foreign keys: a log line may name a task run the events pipeline has not recorded yet.
    # Deleting a flow run deletes its logs explicitly.
    sa.Column("flow_run_id", sa.Uuid(), nullable=True),
    sa.Column("task_run_id", sa.Uuid(), nullable=True),
    sa.Column("message", sa.Text(), nullable=False),
    sa.Column("timestamp", Timestamp(), nullable=False),
    sa.Index("ix_log__flow_run_id__timestamp", "flow_run_id", "timestamp"),
    sa.Index("ix_log__task_run_id__timestamp", "task_run_id", "timestamp"),
    sa.Index("ix_log__timestamp", "timestamp"),
    sa.Index("ix_log__level", "level"),
    # The live log stream (/api/logs/out) follows newly written lines by this column.
    sa.Index("ix_log__created", "created"),
    # Search inside a run (the log view's text filter): the run's lines holding the text's trigrams.
    postgresql_only(
        sa.Index(
            "trgm_ix_log__flow_run_id__message",
            "flow_run_id",
            "message",
            postgresql_using="gin",
            postgresql_ops={"message": "gin_trgm_ops"},
        )
    ),
)
