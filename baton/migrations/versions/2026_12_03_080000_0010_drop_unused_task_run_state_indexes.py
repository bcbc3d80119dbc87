"""Task-run states: drop `ix_task_run_state__updated` and `ix_task_run_state__type`. States are never updated and
nothing looks them up by type (a run's history is read by `task_run_id`, a state by id), and the events pipeline
writes three states per task run: two index entries fewer per recorded event.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 08:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

INDEXES = {"ix_task_run_state__updated": "updated", "ix_task_run_state__type": "type"}


def upgrade() -> None:
    with op.batch_alter_table("task_run_state", schema=None) as batch_op:
        for name in INDEXES:
            batch_op.drop_index(name)


def downgrade() -> None:
    with op.batch_alter_table("task_run_state", schema=None) as batch_op:
        for name, column in INDEXES.items():
            batch_op.create_index(name, [column], unique=False)
