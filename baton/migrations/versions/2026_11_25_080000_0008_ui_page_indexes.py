"""Indexes for the web UI's pages at 100,000 runs: the runs list's sort key, name sort and per-flow last run, the
dashboard's windowed counts (covering the state type) and, on PostgreSQL, tag containment.

Three single-column indexes are replaced by composites that lead with the same column and serve the same queries.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25 08:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

START_KEY_INDEX = "ix_flow_run__start_key__id"
# The runs pages' sort key (baton.server.models.views.run_pages.RUN_START_KEY), written as the queries write it.
START_KEY = "coalesce(start_time, expected_start_time, created)"
TAGS_INDEX = "gin_ix_flow_run__tags"
# (old single-column index, its column, the composite that replaces it, the composite's columns)
REPLACED = (
    ("ix_flow_run__name", "name", "ix_flow_run__name__id", ["name", "id"]),
    ("ix_flow_run__flow_id", "flow_id", "ix_flow_run__flow_id__start_time", ["flow_id", "start_time"]),
    (
        "ix_flow_run__expected_start_time",
        "expected_start_time",
        "ix_flow_run__expected_start_time__state_type",
        ["expected_start_time", "state_type"],
    ),
)


def upgrade() -> None:
    op.create_index(START_KEY_INDEX, "flow_run", [sa.text(START_KEY), "id"], unique=False)
    for old, _, new, columns in REPLACED:
        op.create_index(new, "flow_run", columns, unique=False)
        op.drop_index(old, table_name="flow_run")
    if op.get_context().dialect.name == "postgresql":
        op.create_index(
            TAGS_INDEX, "flow_run", ["tags"], postgresql_using="gin", postgresql_ops={"tags": "jsonb_path_ops"}
        )


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        op.drop_index(TAGS_INDEX, table_name="flow_run")
    for old, column, new, _ in reversed(REPLACED):
        op.create_index(old, "flow_run", [column], unique=False)
        op.drop_index(new, table_name="flow_run")
    op.drop_index(START_KEY_INDEX, table_name="flow_run")
