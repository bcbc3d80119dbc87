"""Events: index the recording time (the live stream follows it), not the never-changing `updated`; drop the unused
event_resources table.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 06:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from baton.server.database import types as bt

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.create_index("ix_events__recorded", ["recorded"], unique=False)
        batch_op.drop_index("ix_events__updated")
    with op.batch_alter_table("event_resources", schema=None) as batch_op:
        batch_op.drop_index("ix_event_resources__event_id")
        batch_op.drop_index("ix_event_resources__resource_id__occurred")
        batch_op.drop_index("ix_event_resources__updated")
    op.drop_table("event_resources")


def downgrade() -> None:
    op.create_table(
        "event_resources",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created", bt.Timestamp(timezone=True), nullable=False),
        sa.Column("updated", bt.Timestamp(timezone=True), nullable=False),
        sa.Column("occurred", bt.Timestamp(timezone=True), nullable=False),
        sa.Column("resource_id", sa.String(length=1024), nullable=False),
        sa.Column("resource_role", sa.String(length=255), nullable=False),
        sa.Column("resource", bt.JSONType(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_resources")),
    )
    with op.batch_alter_table("event_resources", schema=None) as batch_op:
        batch_op.create_index("ix_event_resources__event_id", ["event_id"], unique=False)
        batch_op.create_index("ix_event_resources__resource_id__occurred", ["resource_id", "occurred"], unique=False)
        batch_op.create_index("ix_event_resources__updated", ["updated"], unique=False)
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index("ix_events__recorded")
        batch_op.create_index("ix_events__updated", ["updated"], unique=False)
