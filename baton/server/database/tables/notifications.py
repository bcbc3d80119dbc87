"""Notification policies (which runs, which states, which target) and the record of every delivery."""

from __future__ import annotations

import sqlalchemy as sa

from baton.server.database.tables.base import base_columns, json_column, metadata
from baton.server.database.types import Timestamp

notification_policy = sa.Table(
    "notification_policy",
    metadata,
    *base_columns(),
    sa.Column("name", sa.String(255), nullable=True),
    sa.Column("is_active", sa.Boolean(), nullable=False, default=True),
    json_column("state_names", default=[], nullable=False),
    json_column("tags", default=[], nullable=False),
    sa.Column("block_document_id", sa.Uuid(), sa.ForeignKey("block_document.id", ondelete="CASCADE"), nullable=False),
    sa.Column("message_template", sa.Text(), nullable=True),
    sa.Index("ix_notification_policy__is_active", "is_active"),
)

notification_delivery = sa.Table(
    "notification_delivery",
    metadata,
    *base_columns(),
    sa.Column("policy_id", sa.Uuid(), sa.ForeignKey("notification_policy.id", ondelete="CASCADE"), nullable=False),
    sa.Column("flow_run_id", sa.Uuid(), nullable=True),
    sa.Column("flow_run_state_id", sa.Uuid(), nullable=False),
    sa.Column("status", sa.String(20), nullable=False, default="PENDING"),
    sa.Column("attempts", sa.Integer(), nullable=False, default=0),
    sa.Column("last_attempt_at", Timestamp(), nullable=True),
    sa.Column("sent_at", Timestamp(), nullable=True),
    sa.Column("response_code", sa.Integer(), nullable=True),
    sa.Column("error", sa.Text(), nullable=True),
    # At most one delivery per (policy, state): the guard against sending twice after a redelivered message.
    sa.UniqueConstraint("policy_id", "flow_run_state_id"),
    sa.Index("ix_notification_delivery__status__created", "status", "created"),
    # The throttle looks up a policy's recent deliveries for one run.
    sa.Index("ix_notification_delivery__policy_id__flow_run_id__sent_at", "policy_id", "flow_run_id", "sent_at"),
    # Retention deletes a run's deliveries with the run.
    sa.Index("ix_notification_delivery__flow_run_id", "flow_run_id"),
)
