"""Retention: index the references a pass deletes by, which no index led with yet: a notification delivery's flow
run and a task-run cache entry's state (without them each batch of runs scanned both tables).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 12:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("notification_delivery", schema=None) as batch_op:
        batch_op.create_index("ix_notification_delivery__flow_run_id", ["flow_run_id"], unique=False)
    with op.batch_alter_table("task_run_state_cache", schema=None) as batch_op:
        batch_op.create_index("ix_task_run_state_cache__task_run_state_id", ["task_run_state_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("task_run_state_cache", schema=None) as batch_op:
        batch_op.drop_index("ix_task_run_state_cache__task_run_state_id")
    with op.batch_alter_table("notification_delivery", schema=None) as batch_op:
        batch_op.drop_index("ix_notification_delivery__flow_run_id")
