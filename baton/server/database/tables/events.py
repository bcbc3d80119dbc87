"""Events, as the Prefect events API defines them.

Related resource ids are kept in a JSON array on the event row (`related_resource_ids`) rather than in a table of
their own: one row per event keeps the recorder's batch insert a single statement.
"""

from __future__ import annotations

import sqlalchemy as sa

from baton.server.database.tables.base import base_columns, json_column, metadata
from baton.server.database.types import Timestamp

events = sa.Table(
    "events",
    metadata,
    # `id` is the event's own id, so that recording an event twice is a conflict, not a duplicate. Events are never
    # updated: no index on `updated` (one index fewer to maintain per insert on the busiest table).
    *base_columns(index_updated=False),
    sa.Column("occurred", Timestamp(), nullable=False),
    sa.Column("event", sa.String(1024), nullable=False),
    sa.Column("resource_id", sa.String(1024), nullable=False),
    json_column("resource", default={}, nullable=False),
    json_column("related_resource_ids", default=[], nullable=False),
    json_column("related", default=[], nullable=False),
    json_column("payload", default={}, nullable=False),
    sa.Column("received", Timestamp(), nullable=False),
    sa.Column("recorded", Timestamp(), nullable=False),
    sa.Column("follows", sa.Uuid(), nullable=True),
    sa.Index("ix_events__occurred", "occurred"),
    sa.Index("ix_events__event__occurred", "event", "occurred"),
    sa.Index("ix_events__resource_id__occurred", "resource_id", "occurred"),
    # The live stream (/api/events/out) follows newly recorded events by this column.
    sa.Index("ix_events__recorded", "recorded"),
)
