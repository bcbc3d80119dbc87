"""Deployments and their schedules; work pools, work queues and workers."""

from __future__ import annotations

import sqlalchemy as sa

from baton.server.database.tables.base import base_columns, json_column, metadata, trigram_index
from baton.server.database.types import Timestamp

work_pool = sa.Table(
    "work_pool",
    metadata,
    *base_columns(),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("description", sa.Text(), nullable=True),
    sa.Column("type", sa.String(255), nullable=False, default="process"),
    json_column("base_job_template", default={}, nullable=False),
    sa.Column("is_paused", sa.Boolean(), nullable=False, default=False),
    # No foreign key: the pool and its default queue reference each other.
    sa.Column("default_queue_id", sa.Uuid(), nullable=True),
    sa.Column("concurrency_limit", sa.Integer(), nullable=True),
    sa.Column("status", sa.String(20), nullable=False, default="NOT_READY"),
    sa.Column("last_transitioned_status_at", Timestamp(), nullable=True),
    sa.Column("last_status_event_id", sa.Uuid(), nullable=True),
    json_column("storage_configuration", default={}, nullable=False),
    sa.UniqueConstraint("name"),
    sa.Index("ix_work_pool__type", "type"),
)

work_queue = sa.Table(
    "work_queue",
    metadata,
    *base_columns(),
    sa.Column("name", sa.String(255), nullable=False),
    json_column("filter"),
    sa.Column("description", sa.Text(), nullable=False, default=""),
    sa.Column("is_paused", sa.Boolean(), nullable=False, default=False),
    sa.Column("concurrency_limit", sa.Integer(), nullable=True),
    sa.Column("priority", sa.Integer(), nullable=False, default=1),
    sa.Column("last_polled", Timestamp(), nullable=True),
    sa.Column("status", sa.String(20), nullable=False, default="NOT_READY"),
    sa.Column("work_pool_id", sa.Uuid(), sa.ForeignKey("work_pool.id", ondelete="CASCADE"), nullable=False),
    sa.UniqueConstraint("work_pool_id", "name"),
    sa.Index("ix_work_queue__work_pool_id__priority", "work_pool_id", "priority"),
    trigram_index("work_queue"),
)

worker = sa.Table(
    "worker",
    metadata,
    *base_columns(),
    sa.Column("work_pool_id", sa.Uuid(), sa.ForeignKey("work_pool.id", ondelete="CASCADE"), nullable=False),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("last_heartbeat_time", Timestamp(), nullable=True),
    sa.Column("heartbeat_interval_seconds", sa.Integer(), nullable=True),
    sa.Column("status", sa.String(20), nullable=False, default="OFFLINE"),
    sa.UniqueConstraint("work_pool_id", "name"),
    sa.Index("ix_worker__work_pool_id__last_heartbeat_time", "work_pool_id", "last_heartbeat_time"),
)

deployment = sa.Table(
    "deployment",
    metadata,
    *base_columns(),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("version", sa.String(255), nullable=True),
    json_column("version_info"),
    sa.Column("description", sa.Text(), nullable=True),
    sa.Column("path", sa.String(1024), nullable=True),
    sa.Column("entrypoint", sa.String(1024), nullable=True),
    sa.Column("flow_id", sa.Uuid(), sa.ForeignKey("flow.id", ondelete="CASCADE"), nullable=False),
    sa.Column("work_queue_name", sa.String(255), nullable=True),
    sa.Column("work_queue_id", sa.Uuid(), sa.ForeignKey("work_queue.id", ondelete="SET NULL"), nullable=True),
    sa.Column("last_polled", Timestamp(), nullable=True),
    sa.Column("status", sa.String(20), nullable=False, default="NOT_READY"),
    sa.Column("paused", sa.Boolean(), nullable=False, default=False),
    sa.Column("concurrency_limit", sa.Integer(), nullable=True),
    sa.Column(
        "concurrency_limit_id",
        sa.Uuid(),
        sa.ForeignKey("concurrency_limit_v2.id", ondelete="SET NULL"),
        nullable=True,
    ),
    json_column("concurrency_options"),
    json_column("job_variables", default={}, nullable=False),
    json_column("tags", default=[], nullable=False),
    json_column("labels", default={}, nullable=True),
    json_column("parameters", default={}, nullable=False),
    json_column("pull_steps"),
    json_column("parameter_openapi_schema"),
    sa.Column("enforce_parameter_schema", sa.Boolean(), nullable=False, default=True),
    json_column("created_by"),
    json_column("updated_by"),
    sa.Column("infrastructure_document_id", sa.Uuid(), nullable=True),
    sa.Column("storage_document_id", sa.Uuid(), nullable=True),
    sa.UniqueConstraint("flow_id", "name"),
    sa.Index("ix_deployment__work_queue_id", "work_queue_id"),
    sa.Index("ix_deployment__paused", "paused"),
    trigram_index("deployment"),
)

deployment_schedule = sa.Table(
    "deployment_schedule",
    metadata,
    *base_columns(),
    sa.Column("deployment_id", sa.Uuid(), sa.ForeignKey("deployment.id", ondelete="CASCADE"), nullable=False),
    json_column("schedule", nullable=False),
    sa.Column("active", sa.Boolean(), nullable=False, default=True),
    sa.Column("max_scheduled_runs", sa.Integer(), nullable=True),
    json_column("parameters", default={}, nullable=False),
    sa.Column("slug", sa.String(255), nullable=True),
    sa.UniqueConstraint("deployment_id", "slug"),
    sa.Index("ix_deployment_schedule__deployment_id", "deployment_id"),
)
