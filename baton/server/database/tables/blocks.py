"""Block types, block schemas and block documents (stored configuration, secrets encrypted at rest)."""

from __future__ import annotations

import sqlalchemy as sa

from baton.server.database.tables.base import base_columns, json_column, metadata, trigram_index

block_type = sa.Table(
    "block_type",
    metadata,
    *base_columns(),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("slug", sa.String(255), nullable=False),
    sa.Column("logo_url", sa.String(2048), nullable=True),
    sa.Column("documentation_url", sa.String(2048), nullable=True),
    sa.Column("description", sa.Text(), nullable=True),
    sa.Column("code_example", sa.Text(), nullable=True),
    sa.Column("is_protected", sa.Boolean(), nullable=False, default=False),
    sa.UniqueConstraint("slug"),
    trigram_index("block_type"),
)

block_schema = sa.Table(
    "block_schema",
    metadata,
    *base_columns(),
    sa.Column("checksum", sa.String(255), nullable=False),
    json_column("fields", default={}, nullable=False),
    json_column("capabilities", default=[], nullable=False),
    sa.Column("version", sa.String(255), nullable=False, default="non-versioned"),
    sa.Column("block_type_id", sa.Uuid(), sa.ForeignKey("block_type.id", ondelete="CASCADE"), nullable=False),
    sa.UniqueConstraint("checksum", "version"),
    sa.Index("ix_block_schema__block_type_id", "block_type_id"),
)

block_schema_reference = sa.Table(
    "block_schema_reference",
    metadata,
    *base_columns(),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column(
        "parent_block_schema_id", sa.Uuid(), sa.ForeignKey("block_schema.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column(
        "reference_block_schema_id",
        sa.Uuid(),
        sa.ForeignKey("block_schema.id", ondelete="CASCADE"),
        nullable=False,
    ),
)

block_document = sa.Table(
    "block_document",
    metadata,
    *base_columns(),
    sa.Column("name", sa.String(255), nullable=False),
    # Encrypted JSON (Fernet token); never stored in plaintext.
    sa.Column("data", sa.Text(), nullable=False),
    sa.Column("is_anonymous", sa.Boolean(), nullable=False, default=False),
    sa.Column("block_type_name", sa.String(255), nullable=True),
    sa.Column("block_type_id", sa.Uuid(), sa.ForeignKey("block_type.id", ondelete="CASCADE"), nullable=False),
    sa.Column("block_schema_id", sa.Uuid(), sa.ForeignKey("block_schema.id", ondelete="CASCADE"), nullable=False),
    sa.UniqueConstraint("block_type_id", "name"),
    sa.Index("ix_block_document__is_anonymous", "is_anonymous"),
    trigram_index("block_document"),
)

block_document_reference = sa.Table(
    "block_document_reference",
    metadata,
    *base_columns(),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column(
        "parent_block_document_id",
        sa.Uuid(),
        sa.ForeignKey("block_document.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column(
        "reference_block_document_id",
        sa.Uuid(),
        sa.ForeignKey("block_document.id", ondelete="CASCADE"),
        nullable=False,
    ),
)
