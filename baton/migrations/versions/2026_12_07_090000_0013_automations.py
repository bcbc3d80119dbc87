"""Automations: the automation, the resources it relates to, trigger buckets and counted events, composite
children's firings, firings and their action runs.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from baton.server.database import types as bt

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "automation",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created", bt.Timestamp(timezone=True), nullable=False),
        sa.Column("updated", bt.Timestamp(timezone=True), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("tags", bt.JSONType(), nullable=False),
        sa.Column("trigger", bt.JSONType(), nullable=False),
        sa.Column("actions", bt.JSONType(), nullable=False),
        sa.Column("actions_on_trigger", bt.JSONType(), nullable=False),
        sa.Column("actions_on_resolve", bt.JSONType(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_automation")),
    )
    with op.batch_alter_table("automation", schema=None) as batch_op:
        batch_op.create_index("ix_automation__enabled", ["enabled"], unique=False)
        batch_op.create_index("ix_automation__name", ["name"], unique=False)
        batch_op.create_index(batch_op.f("ix_automation__updated"), ["updated"], unique=False)

    op.create_table(
        "automation_bucket",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created", bt.Timestamp(timezone=True), nullable=False),
        sa.Column("updated", bt.Timestamp(timezone=True), nullable=False),
        sa.Column("automation_id", sa.Uuid(), nullable=False),
        sa.Column("trigger_id", sa.Uuid(), nullable=False),
        sa.Column("bucketing_key", sa.String(length=2000), nullable=False),
        sa.Column("triggering_labels", bt.JSONType(), nullable=False),
        sa.Column("start", bt.Timestamp(timezone=True), nullable=False),
        sa.Column("end", bt.Timestamp(timezone=True), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("last_event", bt.JSONType(), nullable=True),
        sa.Column("last_operation", sa.String(length=50), nullable=True),
        sa.Column("triggered_at", bt.Timestamp(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["automation_id"],
            ["automation.id"],
            name=op.f("fk_automation_bucket__automation_id__automation"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_automation_bucket")),
        sa.UniqueConstraint("trigger_id", "bucketing_key", name=op.f("uq_automation_bucket__trigger_id_bucketing_key")),
    )
    with op.batch_alter_table("automation_bucket", schema=None) as batch_op:
        batch_op.create_index("ix_automation_bucket__automation_id", ["automation_id"], unique=False)
        batch_op.create_index("ix_automation_bucket__end", ["end"], unique=False)

    op.create_table(
        "automation_counted_event",
        sa.Column("trigger_id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("automation_id", sa.Uuid(), nullable=False),
        sa.Column("created", bt.Timestamp(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["automation_id"],
            ["automation.id"],
            name=op.f("fk_automation_counted_event__automation_id__automation"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("trigger_id", "event_id", name=op.f("pk_automation_counted_event")),
    )
    with op.batch_alter_table("automation_counted_event", schema=None) as batch_op:
        batch_op.create_index("ix_automation_counted_event__automation_id", ["automation_id"], unique=False)
        batch_op.create_index("ix_automation_counted_event__created", ["created"], unique=False)

    op.create_table(
        "automation_firing",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created", bt.Timestamp(timezone=True), nullable=False),
        sa.Column("updated", bt.Timestamp(timezone=True), nullable=False),
        sa.Column("automation_id", sa.Uuid(), nullable=False),
        sa.Column("trigger_id", sa.Uuid(), nullable=False),
        sa.Column("firing_key", sa.String(length=500), nullable=False),
        sa.Column("trigger_state", sa.String(length=20), nullable=False),
        sa.Column("occurred", bt.Timestamp(timezone=True), nullable=False),
        sa.Column("triggering_labels", bt.JSONType(), nullable=False),
        sa.Column("triggering_event", bt.JSONType(), nullable=True),
        sa.Column("triggering_value", bt.JSONType(), nullable=True),
        sa.ForeignKeyConstraint(
            ["automation_id"],
            ["automation.id"],
            name=op.f("fk_automation_firing__automation_id__automation"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_automation_firing")),
        sa.UniqueConstraint("firing_key", name=op.f("uq_automation_firing__firing_key")),
    )
    with op.batch_alter_table("automation_firing", schema=None) as batch_op:
        batch_op.create_index(
            "ix_automation_firing__automation_id__occurred", ["automation_id", "occurred"], unique=False
        )
        batch_op.create_index("ix_automation_firing__occurred", ["occurred"], unique=False)

    op.create_table(
        "automation_related_resource",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created", bt.Timestamp(timezone=True), nullable=False),
        sa.Column("updated", bt.Timestamp(timezone=True), nullable=False),
        sa.Column("automation_id", sa.Uuid(), nullable=False),
        sa.Column("resource_id", sa.String(length=500), nullable=False),
        sa.Column("automation_owned_by_resource", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["automation_id"],
            ["automation.id"],
            name=op.f("fk_automation_related_resource__automation_id__automation"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_automation_related_resource")),
        sa.UniqueConstraint(
            "automation_id", "resource_id", name=op.f("uq_automation_related_resource__automation_id_resource_id")
        ),
    )
    with op.batch_alter_table("automation_related_resource", schema=None) as batch_op:
        batch_op.create_index("ix_automation_related_resource__resource_id", ["resource_id"], unique=False)

    op.create_table(
        "composite_trigger_child_firing",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created", bt.Timestamp(timezone=True), nullable=False),
        sa.Column("updated", bt.Timestamp(timezone=True), nullable=False),
        sa.Column("automation_id", sa.Uuid(), nullable=False),
        sa.Column("parent_trigger_id", sa.Uuid(), nullable=False),
        sa.Column("child_trigger_id", sa.Uuid(), nullable=False),
        sa.Column("child_firing_id", sa.Uuid(), nullable=False),
        sa.Column("child_fired_at", bt.Timestamp(timezone=True), nullable=False),
        sa.Column("child_firing", bt.JSONType(), nullable=False),
        sa.ForeignKeyConstraint(
            ["automation_id"],
            ["automation.id"],
            name=op.f("fk_composite_trigger_child_firing__automation_id__automation"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_composite_trigger_child_firing")),
        sa.UniqueConstraint(
            "parent_trigger_id",
            "child_trigger_id",
            name=op.f("uq_composite_trigger_child_firing__parent_trigger_id_child_trigger_id"),
        ),
    )
    with op.batch_alter_table("composite_trigger_child_firing", schema=None) as batch_op:
        batch_op.create_index("ix_composite_trigger_child_firing__automation_id", ["automation_id"], unique=False)

    op.create_table(
        "automation_action_run",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created", bt.Timestamp(timezone=True), nullable=False),
        sa.Column("updated", bt.Timestamp(timezone=True), nullable=False),
        sa.Column("firing_id", sa.Uuid(), nullable=False),
        sa.Column("automation_id", sa.Uuid(), nullable=False),
        sa.Column("phase", sa.String(length=30), nullable=False),
        sa.Column("action_index", sa.Integer(), nullable=False),
        sa.Column("action", bt.JSONType(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("resulting_resource", sa.String(length=500), nullable=True),
        sa.Column("started", bt.Timestamp(timezone=True), nullable=True),
        sa.Column("finished", bt.Timestamp(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["automation_id"],
            ["automation.id"],
            name=op.f("fk_automation_action_run__automation_id__automation"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["firing_id"],
            ["automation_firing.id"],
            name=op.f("fk_automation_action_run__firing_id__automation_firing"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_automation_action_run")),
        sa.UniqueConstraint(
            "firing_id", "phase", "action_index", name=op.f("uq_automation_action_run__firing_id_phase_action_index")
        ),
    )
    with op.batch_alter_table("automation_action_run", schema=None) as batch_op:
        batch_op.create_index("ix_automation_action_run__automation_id", ["automation_id"], unique=False)
        batch_op.create_index("ix_automation_action_run__status__updated", ["status", "updated"], unique=False)
        batch_op.create_index(batch_op.f("ix_automation_action_run__updated"), ["updated"], unique=False)


def downgrade() -> None:
    op.drop_table("automation_action_run")
    op.drop_table("composite_trigger_child_firing")
    op.drop_table("automation_related_resource")
    op.drop_table("automation_firing")
    op.drop_table("automation_counted_event")
    op.drop_table("automation_bucket")
    op.drop_table("automation")
