"""Logs: index the time a line was written, which the live log stream (/api/logs/out) follows.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 03:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("log", schema=None) as batch_op:
        batch_op.create_index("ix_log__created", ["created"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("log", schema=None) as batch_op:
        batch_op.drop_index("ix_log__created")
