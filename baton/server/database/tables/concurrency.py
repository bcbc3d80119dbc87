"""Global (v2) concurrency limits and the leases that hold their slots."""

from __future__ import annotations

import sqlalchemy as sa

from baton.server.database.tables.base import base_columns, json_column, metadata
from baton.server.database.types import Timestamp

concurrency_limit_v2 = sa.Table(
    "concurrency_limit_v2",
    metadata,
    *base_columns(),
    sa.Column("active", sa.Boolean(), nullable=False, default=True),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("limit", sa.Integer(), nullable=False),
    sa.Column("active_slots", sa.Integer(), nullable=False, default=0),
    sa.Column("denied_slots", sa.Integer(), nullable=False, default=0),
    sa.Column("slot_decay_per_second", sa.Float(), nullable=False, default=0.0),
    sa.Column("avg_slot_occupancy_seconds", sa.Float(), nullable=False, default=2.0),
    sa.UniqueConstraint("name"),
)

# A lease holds slots on one or more limits until it is released or expires; an expired lease's slots come back.
concurrency_lease = sa.Table(
    "concurrency_lease",
    metadata,
    *base_columns(),
    sa.Column("expires_at", Timestamp(), nullable=False),
    sa.Column("slots", sa.Integer(), nullable=False),
    sa.Column("holder_type", sa.String(50), nullable=True),
    sa.Column("holder_id", sa.Uuid(), nullable=True),
    json_column("lease_metadata"),
    sa.Index("ix_concurrency_lease__expires_at", "expires_at"),
    sa.Index("ix_concurrency_lease__holder_id", "holder_id"),
)

concurrency_lease_limit = sa.Table(
    "concurrency_lease_limit",
    metadata,
    *base_columns(),
    sa.Column("lease_id", sa.Uuid(), sa.ForeignKey("concurrency_lease.id", ondelete="CASCADE"), nullable=False),
    sa.Column("limit_id", sa.Uuid(), sa.ForeignKey("concurrency_limit_v2.id", ondelete="CASCADE"), nullable=False),
    sa.UniqueConstraint("lease_id", "limit_id"),
    sa.Index("ix_concurrency_lease_limit__limit_id", "limit_id"),
)
