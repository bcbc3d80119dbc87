"""Notification deliveries: an index for the throttle's lookup of a policy's recent deliveries for one run.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25 07:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

INDEX = "ix_notification_delivery__policy_id__flow_run_id__sent_at"


def upgrade() -> None:
    with op.batch_alter_table("notification_delivery", schema=None) as batch_op:
        batch_op.create_index(INDEX, ["policy_id", "flow_run_id", "sent_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("notification_delivery", schema=None) as batch_op:
        batch_op.drop_index(INDEX)
