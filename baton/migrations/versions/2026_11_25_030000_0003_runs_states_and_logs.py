"""Flow runs, task runs, their state history, run inputs and logs.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 03:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from baton.server.database import types as bt

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "flow_run",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created", bt.Timestamp(timezone=True), nullable=False),
        sa.Column("updated", bt.Timestamp(timezone=True), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("flow_id", sa.Uuid(), nullable=False),
        sa.Column("deployment_id", sa.Uuid(), nullable=True),
        sa.Column("deployment_version", sa.String(length=255), nullable=True),
        sa.Column("flow_version", sa.String(length=255), nullable=True),
        sa.Column("parent_task_run_id", sa.Uuid(), nullable=True),
        sa.Column("idempotency_key", sa.String(length=255), nullable=True),
        sa.Column("parameters", bt.JSONType(), nullable=False),
        sa.Column("context", bt.JSONType(), nullable=False),
        sa.Column("empirical_policy", bt.JSONType(), nullable=False),
        sa.Column("tags", bt.JSONType(), nullable=False),
        sa.Column("labels", bt.JSONType(), nullable=True),
        sa.Column("created_by", bt.JSONType(), nullable=True),
        sa.Column("infrastructure_pid", sa.String(length=255), nullable=True),
        sa.Column("job_variables", bt.JSONType(), nullable=True),
        sa.Column("infrastructure_document_id", sa.Uuid(), nullable=True),
        sa.Column("work_queue_name", sa.String(length=255), nullable=True),
        sa.Column("work_queue_id", sa.Uuid(), nullable=True),
        sa.Column("auto_scheduled", sa.Boolean(), nullable=False),
        sa.Column("state_id", sa.Uuid(), nullable=True),
        sa.Column("state_type", sa.String(length=20), nullable=True),
        sa.Column("state_name", sa.String(length=100), nullable=True),
        sa.Column("state_timestamp", bt.Timestamp(timezone=True), nullable=True),
        sa.Column("run_count", sa.Integer(), nullable=False),
        sa.Column("expected_start_time", bt.Timestamp(timezone=True), nullable=True),
        sa.Column("next_scheduled_start_time", bt.Timestamp(timezone=True), nullable=True),
        sa.Column("start_time", bt.Timestamp(timezone=True), nullable=True),
        sa.Column("end_time", bt.Timestamp(timezone=True), nullable=True),
        sa.Column("total_run_time", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["deployment_id"],
            ["deployment.id"],
            name=op.f("fk_flow_run__deployment_id__deployment"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(["flow_id"], ["flow.id"], name=op.f("fk_flow_run__flow_id__flow"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["work_queue_id"],
            ["work_queue.id"],
            name=op.f("fk_flow_run__work_queue_id__work_queue"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_flow_run")),
        sa.UniqueConstraint("flow_id", "idempotency_key", name=op.f("uq_flow_run__flow_id_idempotency_key")),
    )
    with op.batch_alter_table("flow_run", schema=None) as batch_op:
        batch_op.create_index("ix_flow_run__deployment_id", ["deployment_id"], unique=False)
        batch_op.create_index("ix_flow_run__end_time", ["end_time"], unique=False)
        batch_op.create_index("ix_flow_run__expected_start_time", ["expected_start_time"], unique=False)
        batch_op.create_index("ix_flow_run__flow_id", ["flow_id"], unique=False)
        batch_op.create_index("ix_flow_run__name", ["name"], unique=False)
        batch_op.create_index("ix_flow_run__next_scheduled_start_time", ["next_scheduled_start_time"], unique=False)
        batch_op.create_index("ix_flow_run__parent_task_run_id", ["parent_task_run_id"], unique=False)
        batch_op.create_index(
            "ix_flow_run__scheduled_by_deployment",
            ["deployment_id", "auto_scheduled", "next_scheduled_start_time"],
            unique=False,
            postgresql_where=sa.text("state_type = 'SCHEDULED'"),
            sqlite_where=sa.text("state_type = 'SCHEDULED'"),
        )
        batch_op.create_index("ix_flow_run__start_time", ["start_time"], unique=False)
        batch_op.create_index("ix_flow_run__state_name", ["state_name"], unique=False)
        batch_op.create_index("ix_flow_run__state_type", ["state_type"], unique=False)
        batch_op.create_index(
            "ix_flow_run__state_type__expected_start_time", ["state_type", "expected_start_time"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_flow_run__updated"), ["updated"], unique=False)
        batch_op.create_index("ix_flow_run__work_queue_id", ["work_queue_id"], unique=False)

    op.create_table(
        "flow_run_state",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created", bt.Timestamp(timezone=True), nullable=False),
        sa.Column("updated", bt.Timestamp(timezone=True), nullable=False),
        sa.Column("flow_run_id", sa.Uuid(), nullable=False),
        sa.Column("type", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("timestamp", bt.Timestamp(timezone=True), nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("state_details", bt.JSONType(), nullable=False),
        sa.Column("data", bt.JSONType(), nullable=True),
        sa.Column("result_artifact_id", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(
            ["flow_run_id"], ["flow_run.id"], name=op.f("fk_flow_run_state__flow_run_id__flow_run"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_flow_run_state")),
    )
    with op.batch_alter_table("flow_run_state", schema=None) as batch_op:
        batch_op.create_index("ix_flow_run_state__flow_run_id__timestamp", ["flow_run_id", "timestamp"], unique=False)
        batch_op.create_index("ix_flow_run_state__type", ["type"], unique=False)
        batch_op.create_index(batch_op.f("ix_flow_run_state__updated"), ["updated"], unique=False)

    op.create_table(
        "task_run",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created", bt.Timestamp(timezone=True), nullable=False),
        sa.Column("updated", bt.Timestamp(timezone=True), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("flow_run_id", sa.Uuid(), nullable=True),
        sa.Column("task_key", sa.String(length=255), nullable=False),
        sa.Column("dynamic_key", sa.String(length=255), nullable=False),
        sa.Column("cache_key", sa.String(length=2000), nullable=True),
        sa.Column("cache_expiration", bt.Timestamp(timezone=True), nullable=True),
        sa.Column("task_version", sa.String(length=255), nullable=True),
        sa.Column("flow_run_run_count", sa.Integer(), nullable=False),
        sa.Column("empirical_policy", bt.JSONType(), nullable=False),
        sa.Column("task_inputs", bt.JSONType(), nullable=False),
        sa.Column("tags", bt.JSONType(), nullable=False),
        sa.Column("labels", bt.JSONType(), nullable=True),
        sa.Column("state_id", sa.Uuid(), nullable=True),
        sa.Column("state_type", sa.String(length=20), nullable=True),
        sa.Column("state_name", sa.String(length=100), nullable=True),
        sa.Column("state_timestamp", bt.Timestamp(timezone=True), nullable=True),
        sa.Column("run_count", sa.Integer(), nullable=False),
        sa.Column("expected_start_time", bt.Timestamp(timezone=True), nullable=True),
        sa.Column("next_scheduled_start_time", bt.Timestamp(timezone=True), nullable=True),
        sa.Column("start_time", bt.Timestamp(timezone=True), nullable=True),
        sa.Column("end_time", bt.Timestamp(timezone=True), nullable=True),
        sa.Column("total_run_time", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["flow_run_id"], ["flow_run.id"], name=op.f("fk_task_run__flow_run_id__flow_run"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task_run")),
        sa.UniqueConstraint(
            "flow_run_id", "task_key", "dynamic_key", name=op.f("uq_task_run__flow_run_id_task_key_dynamic_key")
        ),
    )
    with op.batch_alter_table("task_run", schema=None) as batch_op:
        batch_op.create_index("ix_task_run__end_time", ["end_time"], unique=False)
        batch_op.create_index("ix_task_run__expected_start_time", ["expected_start_time"], unique=False)
        batch_op.create_index("ix_task_run__flow_run_id", ["flow_run_id"], unique=False)
        batch_op.create_index("ix_task_run__name", ["name"], unique=False)
        batch_op.create_index("ix_task_run__next_scheduled_start_time", ["next_scheduled_start_time"], unique=False)
        batch_op.create_index("ix_task_run__start_time", ["start_time"], unique=False)
        batch_op.create_index("ix_task_run__state_type", ["state_type"], unique=False)
        batch_op.create_index(batch_op.f("ix_task_run__updated"), ["updated"], unique=False)

    op.create_table(
        "task_run_state",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created", bt.Timestamp(timezone=True), nullable=False),
        sa.Column("updated", bt.Timestamp(timezone=True), nullable=False),
        sa.Column("task_run_id", sa.Uuid(), nullable=False),
        sa.Column("type", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("timestamp", bt.Timestamp(timezone=True), nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("state_details", bt.JSONType(), nullable=False),
        sa.Column("data", bt.JSONType(), nullable=True),
        sa.Column("result_artifact_id", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(
            ["task_run_id"], ["task_run.id"], name=op.f("fk_task_run_state__task_run_id__task_run"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task_run_state")),
    )
    with op.batch_alter_table("task_run_state", schema=None) as batch_op:
        batch_op.create_index("ix_task_run_state__task_run_id__timestamp", ["task_run_id", "timestamp"], unique=False)
        batch_op.create_index("ix_task_run_state__type", ["type"], unique=False)
        batch_op.create_index(batch_op.f("ix_task_run_state__updated"), ["updated"], unique=False)

    op.create_table(
        "task_run_state_cache",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created", bt.Timestamp(timezone=True), nullable=False),
        sa.Column("updated", bt.Timestamp(timezone=True), nullable=False),
        sa.Column("cache_key", sa.String(length=2000), nullable=False),
        sa.Column("cache_expiration", bt.Timestamp(timezone=True), nullable=True),
        sa.Column("task_run_state_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task_run_state_cache")),
    )
    with op.batch_alter_table("task_run_state_cache", schema=None) as batch_op:
        batch_op.create_index("ix_task_run_state_cache__cache_key_created", ["cache_key", "created"], unique=False)
        batch_op.create_index(batch_op.f("ix_task_run_state_cache__updated"), ["updated"], unique=False)

    op.create_table(
        "flow_run_input",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created", bt.Timestamp(timezone=True), nullable=False),
        sa.Column("updated", bt.Timestamp(timezone=True), nullable=False),
        sa.Column("flow_run_id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("sender", sa.String(length=255), nullable=True),
        sa.ForeignKeyConstraint(
            ["flow_run_id"], ["flow_run.id"], name=op.f("fk_flow_run_input__flow_run_id__flow_run"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_flow_run_input")),
        sa.UniqueConstraint("flow_run_id", "key", name=op.f("uq_flow_run_input__flow_run_id_key")),
    )
    with op.batch_alter_table("flow_run_input", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_flow_run_input__updated"), ["updated"], unique=False)

    op.create_table(
        "log",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created", bt.Timestamp(timezone=True), nullable=False),
        sa.Column("updated", bt.Timestamp(timezone=True), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("level", sa.SmallInteger(), nullable=False),
        sa.Column("flow_run_id", sa.Uuid(), nullable=True),
        sa.Column("task_run_id", sa.Uuid(), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("timestamp", bt.Timestamp(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_log")),
    )
    with op.batch_alter_table("log", schema=None) as batch_op:
        batch_op.create_index("ix_log__flow_run_id__timestamp", ["flow_run_id", "timestamp"], unique=False)
        batch_op.create_index("ix_log__level", ["level"], unique=False)
        batch_op.create_index("ix_log__task_run_id__timestamp", ["task_run_id", "timestamp"], unique=False)
        batch_op.create_index("ix_log__timestamp", ["timestamp"], unique=False)
        batch_op.create_index(batch_op.f("ix_log__updated"), ["updated"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_log__updated"))
        batch_op.drop_index("ix_log__timestamp")
        batch_op.drop_index("ix_log__task_run_id__timestamp")
        batch_op.drop_index("ix_log__level")
        batch_op.drop_index("ix_log__flow_run_id__timestamp")

    op.drop_table("log")

    with op.batch_alter_table("flow_run_input", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_flow_run_input__updated"))

    op.drop_table("flow_run_input")

    with op.batch_alter_table("task_run_state_cache", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_task_run_state_cache__updated"))
        batch_op.drop_index("ix_task_run_state_cache__cache_key_created")

    op.drop_table("task_run_state_cache")

    with op.batch_alter_table("task_run_state", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_task_run_state__updated"))
        batch_op.drop_index("ix_task_run_state__type")
        batch_op.drop_index("ix_task_run_state__task_run_id__timestamp")

    op.drop_table("task_run_state")

    with op.batch_alter_table("task_run", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_task_run__updated"))
        batch_op.drop_index("ix_task_run__state_type")
        batch_op.drop_index("ix_task_run__start_time")
        batch_op.drop_index("ix_task_run__next_scheduled_start_time")
        batch_op.drop_index("ix_task_run__name")
        batch_op.drop_index("ix_task_run__flow_run_id")
        batch_op.drop_index("ix_task_run__expected_start_time")
        batch_op.drop_index("ix_task_run__end_time")

    op.drop_table("task_run")

    with op.batch_alter_table("flow_run_state", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_flow_run_state__updated"))
        batch_op.drop_index("ix_flow_run_state__type")
        batch_op.drop_index("ix_flow_run_state__flow_run_id__timestamp")

    op.drop_table("flow_run_state")

    with op.batch_alter_table("flow_run", schema=None) as batch_op:
        batch_op.drop_index("ix_flow_run__work_queue_id")
        batch_op.drop_index(batch_op.f("ix_flow_run__updated"))
        batch_op.drop_index("ix_flow_run__state_type__expected_start_time")
        batch_op.drop_index("ix_flow_run__state_type")
        batch_op.drop_index("ix_flow_run__state_name")
        batch_op.drop_index("ix_flow_run__start_time")
        batch_op.drop_index(
            "ix_flow_run__scheduled_by_deployment",
            postgresql_where=sa.text("state_type = 'SCHEDULED'"),
            sqlite_where=sa.text("state_type = 'SCHEDULED'"),
        )
        batch_op.drop_index("ix_flow_run__parent_task_run_id")
        batch_op.drop_index("ix_flow_run__next_scheduled_start_time")
        batch_op.drop_index("ix_flow_run__name")
        batch_op.drop_index("ix_flow_run__flow_id")
        batch_op.drop_index("ix_flow_run__expected_start_time")
        batch_op.drop_index("ix_flow_run__end_time")
        batch_op.drop_index("ix_flow_run__deployment_id")

    op.drop_table("flow_run")
