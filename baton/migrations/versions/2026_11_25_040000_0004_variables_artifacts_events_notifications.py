"""Variables, artifacts, saved searches, CSRF tokens, events and notifications.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 03:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from baton.server.database import types as bt

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "variable",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created", bt.Timestamp(timezone=True), nullable=False),
        sa.Column("updated", bt.Timestamp(timezone=True), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("value", bt.JSONType(), nullable=True),
        sa.Column("tags", bt.JSONType(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_variable")),
        sa.UniqueConstraint("name", name=op.f("uq_variable__name")),
    )
    with op.batch_alter_table("variable", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_variable__updated"), ["updated"], unique=False)

    op.create_table(
        "artifact",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created", bt.Timestamp(timezone=True), nullable=False),
        sa.Column("updated", bt.Timestamp(timezone=True), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=True),
        sa.Column("type", sa.String(length=50), nullable=True),
        sa.Column("data", bt.JSONType(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("metadata_", bt.JSONType(), nullable=True),
        sa.Column("flow_run_id", sa.Uuid(), nullable=True),
        sa.Column("task_run_id", sa.Uuid(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_artifact")),
    )
    with op.batch_alter_table("artifact", schema=None) as batch_op:
        batch_op.create_index("ix_artifact__flow_run_id", ["flow_run_id"], unique=False)
        batch_op.create_index("ix_artifact__key__created", ["key", "created"], unique=False)
        batch_op.create_index("ix_artifact__task_run_id", ["task_run_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_artifact__updated"), ["updated"], unique=False)

    op.create_table(
        "artifact_collection",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created", bt.Timestamp(timezone=True), nullable=False),
        sa.Column("updated", bt.Timestamp(timezone=True), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("latest_id", sa.Uuid(), nullable=False),
        sa.Column("type", sa.String(length=50), nullable=True),
        sa.Column("data", bt.JSONType(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("metadata_", bt.JSONType(), nullable=True),
        sa.Column("flow_run_id", sa.Uuid(), nullable=True),
        sa.Column("task_run_id", sa.Uuid(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_artifact_collection")),
        sa.UniqueConstraint("key", name=op.f("uq_artifact_collection__key")),
    )
    with op.batch_alter_table("artifact_collection", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_artifact_collection__updated"), ["updated"], unique=False)

    op.create_table(
        "saved_search",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created", bt.Timestamp(timezone=True), nullable=False),
        sa.Column("updated", bt.Timestamp(timezone=True), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("filters", bt.JSONType(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_saved_search")),
        sa.UniqueConstraint("name", name=op.f("uq_saved_search__name")),
    )
    with op.batch_alter_table("saved_search", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_saved_search__updated"), ["updated"], unique=False)

    op.create_table(
        "csrf_token",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created", bt.Timestamp(timezone=True), nullable=False),
        sa.Column("updated", bt.Timestamp(timezone=True), nullable=False),
        sa.Column("token", sa.String(length=255), nullable=False),
        sa.Column("client", sa.String(length=255), nullable=False),
        sa.Column("expiration", bt.Timestamp(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_csrf_token")),
        sa.UniqueConstraint("client", name=op.f("uq_csrf_token__client")),
    )
    with op.batch_alter_table("csrf_token", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_csrf_token__updated"), ["updated"], unique=False)

    op.create_table(
        "events",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created", bt.Timestamp(timezone=True), nullable=False),
        sa.Column("updated", bt.Timestamp(timezone=True), nullable=False),
        sa.Column("occurred", bt.Timestamp(timezone=True), nullable=False),
        sa.Column("event", sa.String(length=1024), nullable=False),
        sa.Column("resource_id", sa.String(length=1024), nullable=False),
        sa.Column("resource", bt.JSONType(), nullable=False),
        sa.Column("related_resource_ids", bt.JSONType(), nullable=False),
        sa.Column("related", bt.JSONType(), nullable=False),
        sa.Column("payload", bt.JSONType(), nullable=False),
        sa.Column("received", bt.Timestamp(timezone=True), nullable=False),
        sa.Column("recorded", bt.Timestamp(timezone=True), nullable=False),
        sa.Column("follows", sa.Uuid(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
    )
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.create_index("ix_events__event__occurred", ["event", "occurred"], unique=False)
        batch_op.create_index("ix_events__occurred", ["occurred"], unique=False)
        batch_op.create_index("ix_events__resource_id__occurred", ["resource_id", "occurred"], unique=False)
        batch_op.create_index(batch_op.f("ix_events__updated"), ["updated"], unique=False)

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
        batch_op.create_index(batch_op.f("ix_event_resources__updated"), ["updated"], unique=False)

    op.create_table(
        "notification_policy",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created", bt.Timestamp(timezone=True), nullable=False),
        sa.Column("updated", bt.Timestamp(timezone=True), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("state_names", bt.JSONType(), nullable=False),
        sa.Column("tags", bt.JSONType(), nullable=False),
        sa.Column("block_document_id", sa.Uuid(), nullable=False),
        sa.Column("message_template", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["block_document_id"],
            ["block_document.id"],
            name=op.f("fk_notification_policy__block_document_id__block_document"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_policy")),
    )
    with op.batch_alter_table("notification_policy", schema=None) as batch_op:
        batch_op.create_index("ix_notification_policy__is_active", ["is_active"], unique=False)
        batch_op.create_index(batch_op.f("ix_notification_policy__updated"), ["updated"], unique=False)

    op.create_table(
        "notification_delivery",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created", bt.Timestamp(timezone=True), nullable=False),
        sa.Column("updated", bt.Timestamp(timezone=True), nullable=False),
        sa.Column("policy_id", sa.Uuid(), nullable=False),
        sa.Column("flow_run_id", sa.Uuid(), nullable=True),
        sa.Column("flow_run_state_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_attempt_at", bt.Timestamp(timezone=True), nullable=True),
        sa.Column("sent_at", bt.Timestamp(timezone=True), nullable=True),
        sa.Column("response_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["policy_id"],
            ["notification_policy.id"],
            name=op.f("fk_notification_delivery__policy_id__notification_policy"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_delivery")),
        sa.UniqueConstraint(
            "policy_id", "flow_run_state_id", name=op.f("uq_notification_delivery__policy_id_flow_run_state_id")
        ),
    )
    with op.batch_alter_table("notification_delivery", schema=None) as batch_op:
        batch_op.create_index("ix_notification_delivery__status__created", ["status", "created"], unique=False)
        batch_op.create_index(batch_op.f("ix_notification_delivery__updated"), ["updated"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("notification_delivery", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notification_delivery__updated"))
        batch_op.drop_index("ix_notification_delivery__status__created")

    op.drop_table("notification_delivery")

    with op.batch_alter_table("notification_policy", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notification_policy__updated"))
        batch_op.drop_index("ix_notification_policy__is_active")

    op.drop_table("notification_policy")

    with op.batch_alter_table("event_resources", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_event_resources__updated"))
        batch_op.drop_index("ix_event_resources__resource_id__occurred")
        batch_op.drop_index("ix_event_resources__event_id")

    op.drop_table("event_resources")

    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_events__updated"))
        batch_op.drop_index("ix_events__resource_id__occurred")
        batch_op.drop_index("ix_events__occurred")
        batch_op.drop_index("ix_events__event__occurred")

    op.drop_table("events")

    with op.batch_alter_table("csrf_token", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_csrf_token__updated"))

    op.drop_table("csrf_token")

    with op.batch_alter_table("saved_search", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_saved_search__updated"))

    op.drop_table("saved_search")

    with op.batch_alter_table("artifact_collection", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_artifact_collection__updated"))

    op.drop_table("artifact_collection")

    with op.batch_alter_table("artifact", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_artifact__updated"))
        batch_op.drop_index("ix_artifact__task_run_id")
        batch_op.drop_index("ix_artifact__key__created")
        batch_op.drop_index("ix_artifact__flow_run_id")

    op.drop_table("artifact")

    with op.batch_alter_table("variable", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_variable__updated"))

    op.drop_table("variable")
