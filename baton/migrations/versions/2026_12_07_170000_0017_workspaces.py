"""Workspaces: the workspace table, the members' roles in each, and the workspace of an audit entry, in the main
schema (each workspace's own tables live in its store, made when the workspace is created).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 15:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from baton.migrations.env_options import in_workspace_store
from baton.server.database import types as bt

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if in_workspace_store():
        return
    op.create_table(
        "workspace",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created", bt.Timestamp(timezone=True), nullable=False),
        sa.Column("updated", bt.Timestamp(timezone=True), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workspace")),
        sa.UniqueConstraint("account_id", "name", name=op.f("uq_workspace__account_id_name")),
    )
    with op.batch_alter_table("workspace", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_workspace__updated"), ["updated"], unique=False)
    op.create_table(
        "workspace_member",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created", bt.Timestamp(timezone=True), nullable=False),
        sa.Column("updated", bt.Timestamp(timezone=True), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("role", sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspace.id"],
            name=op.f("fk_workspace_member__workspace_id__workspace"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["account.id"], name=op.f("fk_workspace_member__member_id__account"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workspace_member")),
        sa.UniqueConstraint("workspace_id", "member_id", name=op.f("uq_workspace_member__workspace_id_member_id")),
    )
    with op.batch_alter_table("workspace_member", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_workspace_member__member_id"), ["member_id"], unique=False)
    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.add_column(sa.Column("workspace_id", sa.Uuid(), nullable=True))


def downgrade() -> None:
    if in_workspace_store():
        return
    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.drop_column("workspace_id")
    op.drop_table("workspace_member")
    op.drop_table("workspace")
