"""Configuration, blocks and concurrency limits.

Revision ID: 0001
Revises: None
Create Date: 2026-11-25 03:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from baton.server.database import types as bt

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "configuration",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created", bt.Timestamp(timezone=True), nullable=False),
        sa.Column("updated", bt.Timestamp(timezone=True), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("value", bt.JSONType(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_configuration")),
        sa.UniqueConstraint("key", name=op.f("uq_configuration__key")),
    )
    with op.batch_alter_table("configuration", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_configuration__updated"), ["updated"], unique=False)

    op.create_table(
        "block_type",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created", bt.Timestamp(timezone=True), nullable=False),
        sa.Column("updated", bt.Timestamp(timezone=True), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("slug", sa.String(length=255), nullable=False),
        sa.Column("logo_url", sa.String(length=2048), nullable=True),
        sa.Column("documentation_url", sa.String(length=2048), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("code_example", sa.Text(), nullable=True),
        sa.Column("is_protected", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_block_type")),
        sa.UniqueConstraint("slug", name=op.f("uq_block_type__slug")),
    )
    with op.batch_alter_table("block_type", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_block_type__updated"), ["updated"], unique=False)

    op.create_table(
        "block_schema",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created", bt.Timestamp(timezone=True), nullable=False),
        sa.Column("updated", bt.Timestamp(timezone=True), nullable=False),
        sa.Column("checksum", sa.String(length=255), nullable=False),
        sa.Column("fields", bt.JSONType(), nullable=False),
        sa.Column("capabilities", bt.JSONType(), nullable=False),
        sa.Column("version", sa.String(length=255), nullable=False),
        sa.Column("block_type_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["block_type_id"],
            ["block_type.id"],
            name=op.f("fk_block_schema__block_type_id__block_type"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_block_schema")),
        sa.UniqueConstraint("checksum", "version", name=op.f("uq_block_schema__checksum_version")),
    )
    with op.batch_alter_table("block_schema", schema=None) as batch_op:
        batch_op.create_index("ix_block_schema__block_type_id", ["block_type_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_block_schema__updated"), ["updated"], unique=False)

    op.create_table(
        "block_schema_reference",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created", bt.Timestamp(timezone=True), nullable=False),
        sa.Column("updated", bt.Timestamp(timezone=True), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("parent_block_schema_id", sa.Uuid(), nullable=False),
        sa.Column("reference_block_schema_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["parent_block_schema_id"],
            ["block_schema.id"],
            name=op.f("fk_block_schema_reference__parent_block_schema_id__block_schema"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reference_block_schema_id"],
            ["block_schema.id"],
            name=op.f("fk_block_schema_reference__reference_block_schema_id__block_schema"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_block_schema_reference")),
    )
    with op.batch_alter_table("block_schema_reference", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_block_schema_reference__updated"), ["updated"], unique=False)

    op.create_table(
        "block_document",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created", bt.Timestamp(timezone=True), nullable=False),
        sa.Column("updated", bt.Timestamp(timezone=True), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("is_anonymous", sa.Boolean(), nullable=False),
        sa.Column("block_type_name", sa.String(length=255), nullable=True),
        sa.Column("block_type_id", sa.Uuid(), nullable=False),
        sa.Column("block_schema_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["block_schema_id"],
            ["block_schema.id"],
            name=op.f("fk_block_document__block_schema_id__block_schema"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["block_type_id"],
            ["block_type.id"],
            name=op.f("fk_block_document__block_type_id__block_type"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_block_document")),
        sa.UniqueConstraint("block_type_id", "name", name=op.f("uq_block_document__block_type_id_name")),
    )
    with op.batch_alter_table("block_document", schema=None) as batch_op:
        batch_op.create_index("ix_block_document__is_anonymous", ["is_anonymous"], unique=False)
        batch_op.create_index(batch_op.f("ix_block_document__updated"), ["updated"], unique=False)

    op.create_table(
        "block_document_reference",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created", bt.Timestamp(timezone=True), nullable=False),
        sa.Column("updated", bt.Timestamp(timezone=True), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("parent_block_document_id", sa.Uuid(), nullable=False),
        sa.Column("reference_block_document_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["parent_block_document_id"],
            ["block_document.id"],
            name=op.f("fk_block_document_reference__parent_block_document_id__block_document"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reference_block_document_id"],
            ["block_document.id"],
            name=op.f("fk_block_document_reference__reference_block_document_id__block_document"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_block_document_reference")),
    )
    with op.batch_alter_table("block_document_reference", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_block_document_reference__updated"), ["updated"], unique=False)

    op.create_table(
        "concurrency_limit_v2",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created", bt.Timestamp(timezone=True), nullable=False),
        sa.Column("updated", bt.Timestamp(timezone=True), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("limit", sa.Integer(), nullable=False),
        sa.Column("active_slots", sa.Integer(), nullable=False),
        sa.Column("denied_slots", sa.Integer(), nullable=False),
        sa.Column("slot_decay_per_second", sa.Float(), nullable=False),
        sa.Column("avg_slot_occupancy_seconds", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_concurrency_limit_v2")),
        sa.UniqueConstraint("name", name=op.f("uq_concurrency_limit_v2__name")),
    )
    with op.batch_alter_table("concurrency_limit_v2", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_concurrency_limit_v2__updated"), ["updated"], unique=False)

    op.create_table(
        "concurrency_lease",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created", bt.Timestamp(timezone=True), nullable=False),
        sa.Column("updated", bt.Timestamp(timezone=True), nullable=False),
        sa.Column("expires_at", bt.Timestamp(timezone=True), nullable=False),
        sa.Column("slots", sa.Integer(), nullable=False),
        sa.Column("holder_type", sa.String(length=50), nullable=True),
        sa.Column("holder_id", sa.Uuid(), nullable=True),
        sa.Column("lease_metadata", bt.JSONType(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_concurrency_lease")),
    )
    with op.batch_alter_table("concurrency_lease", schema=None) as batch_op:
        batch_op.create_index("ix_concurrency_lease__expires_at", ["expires_at"], unique=False)
        batch_op.create_index("ix_concurrency_lease__holder_id", ["holder_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_concurrency_lease__updated"), ["updated"], unique=False)

    op.create_table(
        "concurrency_lease_limit",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created", bt.Timestamp(timezone=True), nullable=False),
        sa.Column("updated", bt.Timestamp(timezone=True), nullable=False),
        sa.Column("lease_id", sa.Uuid(), nullable=False),
        sa.Column("limit_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["lease_id"],
            ["concurrency_lease.id"],
            name=op.f("fk_concurrency_lease_limit__lease_id__concurrency_lease"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["limit_id"],
            ["concurrency_limit_v2.id"],
            name=op.f("fk_concurrency_lease_limit__limit_id__concurrency_limit_v2"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_concurrency_lease_limit")),
        sa.UniqueConstraint("lease_id", "limit_id", name=op.f("uq_concurrency_lease_limit__lease_id_limit_id")),
    )
    with op.batch_alter_table("concurrency_lease_limit", schema=None) as batch_op:
        batch_op.create_index("ix_concurrency_lease_limit__limit_id", ["limit_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_concurrency_lease_limit__updated"), ["updated"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("concurrency_lease_limit", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_concurrency_lease_limit__updated"))
        batch_op.drop_index("ix_concurrency_lease_limit__limit_id")

    op.drop_table("concurrency_lease_limit")

    with op.batch_alter_table("concurrency_lease", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_concurrency_lease__updated"))
        batch_op.drop_index("ix_concurrency_lease__holder_id")
        batch_op.drop_index("ix_concurrency_lease__expires_at")

    op.drop_table("concurrency_lease")

    with op.batch_alter_table("concurrency_limit_v2", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_concurrency_limit_v2__updated"))

    op.drop_table("concurrency_limit_v2")

    with op.batch_alter_table("block_document_reference", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_block_document_reference__updated"))

    op.drop_table("block_document_reference")

    with op.batch_alter_table("block_document", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_block_document__updated"))
        batch_op.drop_index("ix_block_document__is_anonymous")

    op.drop_table("block_document")

    with op.batch_alter_table("block_schema_reference", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_block_schema_reference__updated"))

    op.drop_table("block_schema_reference")

    with op.batch_alter_table("block_schema", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_block_schema__updated"))
        batch_op.drop_index("ix_block_schema__block_type_id")

    op.drop_table("block_schema")

    with op.batch_alter_table("block_type", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_block_type__updated"))

    op.drop_table("block_type")

    with op.batch_alter_table("configuration", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_configuration__updated"))

    op.drop_table("configuration")
