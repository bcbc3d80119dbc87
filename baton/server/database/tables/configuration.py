"""Server configuration, variables, artifacts, saved searches and CSRF tokens."""

from __future__ import annotations

import sqlalchemy as sa

from baton.server.database.tables.base import base_columns, json_column, metadata
from baton.server.database.types import Timestamp

configuration = sa.Table(
    "configuration",
    metadata,
    *base_columns(),
    sa.Column("key", sa.String(255), nullable=False),
    json_column("value", nullable=False),
    sa.UniqueConstraint("key"),
)

variable = sa.Table(
    "variable",
    metadata,
    *base_columns(),
    sa.Column("name", sa.String(255), nullable=False),
    json_column("value"),
    json_column("tags", default=[], nullable=False),
    sa.UniqueConstraint("name"),
)

artifact = sa.Table(
    "artifact",
    metadata,
    *base_columns(),
    sa.Column("key", sa.String(255), nullable=True),
    sa.Column("type", sa.String(50), nullable=True),
    json_column("data"),
    sa.Column("description", sa.Text(), nullable=True),
    json_column("metadata_"),
    sa.Column("flow_run_id", sa.Uuid(), nullable=True),
    sa.Column("task_run_id", sa.Uuid(), nullable=True),
    sa.Index("ix_artifact__key__created", "key", "created"),
    sa.Index("ix_artifact__flow_run_id", "flow_run_id"),
    sa.Index("ix_artifact__task_run_id", "task_run_id"),
)

artifact_collection = sa.Table(
    "artifact_collection",
    metadata,
    *base_columns(),
    sa.Column("key", sa.String(255), nullable=False),
    sa.Column("latest_id", sa.Uuid(), nullable=False),
    sa.Column("type", sa.String(50), nullable=True),
    json_column("data"),
    sa.Column("description", sa.Text(), nullable=True),
    json_column("metadata_"),
    sa.Column("flow_run_id", sa.Uuid(), nullable=True),
    sa.Column("task_run_id", sa.Uuid(), nullable=True),
    sa.UniqueConstraint("key"),
)

saved_search = sa.Table(
    "saved_search",
    metadata,
    *base_columns(),
    sa.Column("name", sa.String(255), nullable=False),
    json_column("filters", default=[], nullable=False),
    sa.UniqueConstraint("name"),
)

csrf_token = sa.Table(
    "csrf_token",
    metadata,
    *base_columns(),
    sa.Column("token", sa.String(255), nullable=False),
    sa.Column("client", sa.String(255), nullable=False),
    sa.Column("expiration", Timestamp(), nullable=False),
    sa.UniqueConstraint("client"),
)
