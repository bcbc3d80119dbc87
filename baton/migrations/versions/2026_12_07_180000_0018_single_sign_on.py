"""Single sign-on: a user made by an OIDC sign-in keeps the provider's issuer and subject, and their e-mail.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 15:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from baton.migrations.env_options import in_workspace_store

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if in_workspace_store():  # the accounts are global: a workspace's store has none
        return
    with op.batch_alter_table("account", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sso_issuer", sa.String(length=1024), nullable=True))
        batch_op.add_column(sa.Column("sso_subject", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("email", sa.String(length=320), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_account__sso_issuer_sso_subject"), ["sso_issuer", "sso_subject"], unique=True
        )


def downgrade() -> None:
    if in_workspace_store():
        return
    with op.batch_alter_table("account", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_account__sso_issuer_sso_subject"))
        batch_op.drop_column("email")
        batch_op.drop_column("sso_subject")
        batch_op.drop_column("sso_issuer")
