"""Workspaces and who may use them. Both tables are global: they live in the main schema beside the identity tables,
and the workspaces' own tables live in one store per workspace (see `baton.server.database.workspace_stores`)."""

from __future__ import annotations

import sqlalchemy as sa

from baton.server.database.tables.base import base_columns, metadata

workspace = sa.Table(
    "workspace",
    metadata,
    *base_columns(),
    # The account (organisation) a workspace belongs to, as in Prefect Cloud's URLs; one per server for now.
    sa.Column("account_id", sa.Uuid(), nullable=False),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("description", sa.Text(), nullable=False, default=""),
    sa.UniqueConstraint("account_id", "name"),
)

workspace_member = sa.Table(
    "workspace_member",
    metadata,
    *base_columns(index_updated=False),
    sa.Column("workspace_id", sa.Uuid(), sa.ForeignKey("workspace.id", ondelete="CASCADE"), nullable=False),
    # A user's or a service account's id (table `account`).
    sa.Column("member_id", sa.Uuid(), sa.ForeignKey("account.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("role", sa.String(255), nullable=False),
    sa.UniqueConstraint("workspace_id", "member_id"),
)
