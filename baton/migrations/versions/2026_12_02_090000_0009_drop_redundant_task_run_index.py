"""Task runs: drop `ix_task_run__flow_run_id`, which the unique index on (flow_run_id, task_key, dynamic_key) already
covers (its leading column serves every lookup by flow run). Each task-run state change is a non-HOT update that
writes every index of the row, so one index fewer is less work per recorded event.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 09:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

INDEX = "ix_task_run__flow_run_id"


def upgrade() -> None:
    with op.batch_alter_table("task_run", schema=None) as batch_op:
        batch_op.drop_index(INDEX)


def downgrade() -> None:
    with op.batch_alter_table("task_run", schema=None) as batch_op:
        batch_op.create_index(INDEX, ["flow_run_id"], unique=False)
