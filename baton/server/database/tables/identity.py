"""Who may call Baton: accounts (users and service accounts), their API keys and sign-in sessions, custom roles, the
audit log, and the counter that tells every server process its cached credentials are stale."""

from __future__ import annotations

import sqlalchemy as sa

from baton.server.database.tables.base import base_columns, json_column, metadata
from baton.server.database.types import Timestamp

account = sa.Table(
    "account",
    metadata,
    *base_columns(),
    # "user" or "service_account"
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("role", sa.String(255), nullable=False),
    # argon2id hash; null for service accounts and users who have not set one.
    sa.Column("password_hash", sa.String(255), nullable=True),
    sa.Column("disabled", sa.Boolean(), nullable=False, default=False),
    # A service account's keys stop working after this time.
    sa.Column("expires_at", Timestamp(), nullable=True),
    # A user made by single sign-on: the identity provider's issuer and subject (the `sub` claim), which name the
    # person whatever their user name becomes; null for local users and service accounts.
    sa.Column("sso_issuer", sa.String(1024), nullable=True),
    sa.Column("sso_subject", sa.String(255), nullable=True),
    # The e-mail the identity provider gave at the last sign-in.
    sa.Column("email", sa.String(320), nullable=True),
    sa.UniqueConstraint("kind", "name"),
    # A unique index rather than a constraint: SQLite adds one without rebuilding the table.
    sa.Index(None, "sso_issuer", "sso_subject", unique=True),
)

api_key = sa.Table(
    "api_key",
    metadata,
    *base_columns(index_updated=False),
    sa.Column("account_id", sa.Uuid(), sa.ForeignKey("account.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("name", sa.String(255), nullable=False),
    # The first characters of the key, shown in lists; the key itself is only stored as its SHA-256.
    sa.Column("prefix", sa.String(32), nullable=False),
    sa.Column("key_hash", sa.String(64), nullable=False),
    sa.Column("expires_at", Timestamp(), nullable=True),
    sa.Column("last_used_at", Timestamp(), nullable=True),
    sa.Column("revoked_at", Timestamp(), nullable=True),
    sa.UniqueConstraint("key_hash"),
)

auth_session = sa.Table(
    "auth_session",
    metadata,
    *base_columns(index_updated=False),
    sa.Column("account_id", sa.Uuid(), sa.ForeignKey("account.id", ondelete="CASCADE"), nullable=False, index=True),
    # SHA-256 of the cookie's token; the token itself is never stored.
    sa.Column("token_hash", sa.String(64), nullable=False),
    sa.Column("csrf_token", sa.String(64), nullable=False),
    sa.Column("expires_at", Timestamp(), nullable=False),
    sa.Column("revoked_at", Timestamp(), nullable=True),
    sa.Column("address", sa.String(64), nullable=True),
    sa.UniqueConstraint("token_hash"),
)

custom_role = sa.Table(
    "custom_role",
    metadata,
    *base_columns(),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("description", sa.Text(), nullable=False, default=""),
    json_column("permissions", default=[], nullable=False),
    sa.UniqueConstraint("name"),
)

auth_generation = sa.Table(
    "auth_generation",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True),
    # Bumped by every change that can take a permission away (revoked key, disabled account, role change).
    sa.Column("generation", sa.BigInteger(), nullable=False),
)

audit_entry = sa.Table(
    "audit_entry",
    metadata,
    sa.Column("id", sa.Uuid(), primary_key=True),
    sa.Column("occurred", Timestamp(), nullable=False, index=True),
    # "user", "service_account" or "anonymous"
    sa.Column("actor_kind", sa.String(20), nullable=False),
    sa.Column("actor_id", sa.Uuid(), nullable=True),
    sa.Column("actor_name", sa.String(255), nullable=False),
    # e.g. "variable.create", "auth.sign_in", "api_key.rotate", "block.read_secrets"
    sa.Column("action", sa.String(100), nullable=False),
    sa.Column("resource_kind", sa.String(50), nullable=True),
    sa.Column("resource_id", sa.String(255), nullable=True),
    sa.Column("resource_name", sa.String(255), nullable=True),
    sa.Column("address", sa.String(64), nullable=True),
    # "success", "failure" or "denied"
    sa.Column("outcome", sa.String(20), nullable=False),
    sa.Column("status_code", sa.Integer(), nullable=True),
    json_column("detail", default={}, nullable=False),
    # The workspace whose object was changed (None: the default workspace, or a global object).
    sa.Column("workspace_id", sa.Uuid(), nullable=True),
    sa.Index("ix_audit_entry__actor_name__occurred", "actor_name", "occurred"),
    sa.Index("ix_audit_entry__action__occurred", "action", "occurred"),
)
