"""Identity: accounts (users and service accounts), API keys, sign-in sessions, custom roles, the audit log, and the
counter that invalidates cached credentials.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 06:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from baton.server.database import types as bt

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "account",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created", bt.Timestamp(timezone=True), nullable=False),
        sa.Column("updated", bt.Timestamp(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=255), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=True),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("expires_at", bt.Timestamp(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account")),
        sa.UniqueConstraint("kind", "name", name=op.f("uq_account__kind_name")),
    )
    with op.batch_alter_table("account", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_account__updated"), ["updated"], unique=False)

    op.create_table(
        "api_key",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created", bt.Timestamp(timezone=True), nullable=False),
        sa.Column("updated", bt.Timestamp(timezone=True), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("prefix", sa.String(length=32), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("expires_at", bt.Timestamp(timezone=True), nullable=True),
        sa.Column("last_used_at", bt.Timestamp(timezone=True), nullable=True),
        sa.Column("revoked_at", bt.Timestamp(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["account.id"], name=op.f("fk_api_key__account_id__account"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_key")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_api_key__key_hash")),
    )
    with op.batch_alter_table("api_key", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_key__account_id"), ["account_id"], unique=False)

    op.create_table(
        "auth_session",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created", bt.Timestamp(timezone=True), nullable=False),
        sa.Column("updated", bt.Timestamp(timezone=True), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("expires_at", bt.Timestamp(timezone=True), nullable=False),
        sa.Column("revoked_at", bt.Timestamp(timezone=True), nullable=True),
        sa.Column("address", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["account.id"], name=op.f("fk_auth_session__account_id__account"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_session")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_auth_session__token_hash")),
    )
    with op.batch_alter_table("auth_session", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_auth_session__account_id"), ["account_id"], unique=False)

    op.create_table(
        "custom_role",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created", bt.Timestamp(timezone=True), nullable=False),
        sa.Column("updated", bt.Timestamp(timezone=True), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("permissions", bt.JSONType(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_custom_role")),
        sa.UniqueConstraint("name", name=op.f("uq_custom_role__name")),
    )
    with op.batch_alter_table("custom_role", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_custom_role__updated"), ["updated"], unique=False)

    op.create_table(
        "auth_generation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("generation", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_generation")),
    )

    op.create_table(
        "audit_entry",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("occurred", bt.Timestamp(timezone=True), nullable=False),
        sa.Column("actor_kind", sa.String(length=20), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("actor_name", sa.String(length=255), nullable=False),
        sa.Column("action", sa.String(length=100), nullable=False),
        sa.Column("resource_kind", sa.String(length=50), nullable=True),
        sa.Column("resource_id", sa.String(length=255), nullable=True),
        sa.Column("resource_name", sa.String(length=255), nullable=True),
        sa.Column("address", sa.String(length=64), nullable=True),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("detail", bt.JSONType(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_entry")),
    )
    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_entry__occurred"), ["occurred"], unique=False)
        batch_op.create_index("ix_audit_entry__actor_name__occurred", ["actor_name", "occurred"], unique=False)
        batch_op.create_index("ix_audit_entry__action__occurred", ["action", "occurred"], unique=False)


def downgrade() -> None:
    op.drop_table("audit_entry")
    op.drop_table("auth_generation")
    op.drop_table("custom_role")
    op.drop_table("auth_session")
    op.drop_table("api_key")
    op.drop_table("account")
