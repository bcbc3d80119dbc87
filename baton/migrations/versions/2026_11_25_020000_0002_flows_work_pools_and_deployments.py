"""Flows, work pools, work queues, workers and deployments.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 03:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from baton.server.database import types as bt

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "flow",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created", bt.Timestamp(timezone=True), nullable=False),
        sa.Column("updated", bt.Timestamp(timezone=True), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("tags", bt.JSONType(), nullable=False),
        sa.Column("labels", bt.JSONType(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_flow")),
        sa.UniqueConstraint("name", name=op.f("uq_flow__name")),
    )
    with op.batch_alter_table("flow", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_flow__updated"), ["updated"], unique=False)

    op.create_table(
        "work_pool",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created", bt.Timestamp(timezone=True), nullable=False),
        sa.Column("updated", bt.Timestamp(timezone=True), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("type", sa.String(length=255), nullable=False),
        sa.Column("base_job_template", bt.JSONType(), nullable=False),
        sa.Column("is_paused", sa.Boolean(), nullable=False),
        sa.Column("default_queue_id", sa.Uuid(), nullable=True),
        sa.Column("concurrency_limit", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("last_transitioned_status_at", bt.Timestamp(timezone=True), nullable=True),
        sa.Column("last_status_event_id", sa.Uuid(), nullable=True),
        sa.Column("storage_configuration", bt.JSONType(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_pool")),
        sa.UniqueConstraint("name", name=op.f("uq_work_pool__name")),
    )
    with op.batch_alter_table("work_pool", schema=None) as batch_op:
        batch_op.create_index("ix_work_pool__type", ["type"], unique=False)
        batch_op.create_index(batch_op.f("ix_work_pool__updated"), ["updated"], unique=False)

    op.create_table(
        "work_queue",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created", bt.Timestamp(timezone=True), nullable=False),
        sa.Column("updated", bt.Timestamp(timezone=True), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("filter", bt.JSONType(), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("is_paused", sa.Boolean(), nullable=False),
        sa.Column("concurrency_limit", sa.Integer(), nullable=True),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("last_polled", bt.Timestamp(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("work_pool_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["work_pool_id"], ["work_pool.id"], name=op.f("fk_work_queue__work_pool_id__work_pool"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_queue")),
        sa.UniqueConstraint("work_pool_id", "name", name=op.f("uq_work_queue__work_pool_id_name")),
    )
    with op.batch_alter_table("work_queue", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_work_queue__updated"), ["updated"], unique=False)
        batch_op.create_index("ix_work_queue__work_pool_id__priority", ["work_pool_id", "priority"], unique=False)

    op.create_table(
        "worker",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created", bt.Timestamp(timezone=True), nullable=False),
        sa.Column("updated", bt.Timestamp(timezone=True), nullable=False),
        sa.Column("work_pool_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("last_heartbeat_time", bt.Timestamp(timezone=True), nullable=True),
        sa.Column("heartbeat_interval_seconds", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(
            ["work_pool_id"], ["work_pool.id"], name=op.f("fk_worker__work_pool_id__work_pool"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_worker")),
        sa.UniqueConstraint("work_pool_id", "name", name=op.f("uq_worker__work_pool_id_name")),
    )
    with op.batch_alter_table("worker", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_worker__updated"), ["updated"], unique=False)
        batch_op.create_index(
            "ix_worker__work_pool_id__last_heartbeat_time", ["work_pool_id", "last_heartbeat_time"], unique=False
        )

    op.create_table(
        "deployment",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created", bt.Timestamp(timezone=True), nullable=False),
        sa.Column("updated", bt.Timestamp(timezone=True), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("version", sa.String(length=255), nullable=True),
        sa.Column("version_info", bt.JSONType(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("path", sa.String(length=1024), nullable=True),
        sa.Column("entrypoint", sa.String(length=1024), nullable=True),
        sa.Column("flow_id", sa.Uuid(), nullable=False),
        sa.Column("work_queue_name", sa.String(length=255), nullable=True),
        sa.Column("work_queue_id", sa.Uuid(), nullable=True),
        sa.Column("last_polled", bt.Timestamp(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("concurrency_limit", sa.Integer(), nullable=True),
        sa.Column("concurrency_limit_id", sa.Uuid(), nullable=True),
        sa.Column("concurrency_options", bt.JSONType(), nullable=True),
        sa.Column("job_variables", bt.JSONType(), nullable=False),
        sa.Column("tags", bt.JSONType(), nullable=False),
        sa.Column("labels", bt.JSONType(), nullable=True),
        sa.Column("parameters", bt.JSONType(), nullable=False),
        sa.Column("pull_steps", bt.JSONType(), nullable=True),
        sa.Column("parameter_openapi_schema", bt.JSONType(), nullable=True),
        sa.Column("enforce_parameter_schema", sa.Boolean(), nullable=False),
        sa.Column("created_by", bt.JSONType(), nullable=True),
        sa.Column("updated_by", bt.JSONType(), nullable=True),
        sa.Column("infrastructure_document_id", sa.Uuid(), nullable=True),
        sa.Column("storage_document_id", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(
            ["concurrency_limit_id"],
            ["concurrency_limit_v2.id"],
            name=op.f("fk_deployment__concurrency_limit_id__concurrency_limit_v2"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["flow_id"], ["flow.id"], name=op.f("fk_deployment__flow_id__flow"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["work_queue_id"],
            ["work_queue.id"],
            name=op.f("fk_deployment__work_queue_id__work_queue"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deployment")),
        sa.UniqueConstraint("flow_id", "name", name=op.f("uq_deployment__flow_id_name")),
    )
    with op.batch_alter_table("deployment", schema=None) as batch_op:
        batch_op.create_index("ix_deployment__paused", ["paused"], unique=False)
        batch_op.create_index(batch_op.f("ix_deployment__updated"), ["updated"], unique=False)
        batch_op.create_index("ix_deployment__work_queue_id", ["work_queue_id"], unique=False)

    op.create_table(
        "deployment_schedule",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created", bt.Timestamp(timezone=True), nullable=False),
        sa.Column("updated", bt.Timestamp(timezone=True), nullable=False),
        sa.Column("deployment_id", sa.Uuid(), nullable=False),
        sa.Column("schedule", bt.JSONType(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("max_scheduled_runs", sa.Integer(), nullable=True),
        sa.Column("parameters", bt.JSONType(), nullable=False),
        sa.Column("slug", sa.String(length=255), nullable=True),
        sa.ForeignKeyConstraint(
            ["deployment_id"],
            ["deployment.id"],
            name=op.f("fk_deployment_schedule__deployment_id__deployment"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deployment_schedule")),
        sa.UniqueConstraint("deployment_id", "slug", name=op.f("uq_deployment_schedule__deployment_id_slug")),
    )
    with op.batch_alter_table("deployment_schedule", schema=None) as batch_op:
        batch_op.create_index("ix_deployment_schedule__deployment_id", ["deployment_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_deployment_schedule__updated"), ["updated"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("deployment_schedule", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deployment_schedule__updated"))
        batch_op.drop_index("ix_deployment_schedule__deployment_id")

    op.drop_table("deployment_schedule")

    with op.batch_alter_table("deployment", schema=None) as batch_op:
        batch_op.drop_index("ix_deployment__work_queue_id")
        batch_op.drop_index(batch_op.f("ix_deployment__updated"))
        batch_op.drop_index("ix_deployment__paused")

    op.drop_table("deployment")

    with op.batch_alter_table("worker", schema=None) as batch_op:
        batch_op.drop_index("ix_worker__work_pool_id__last_heartbeat_time")
        batch_op.drop_index(batch_op.f("ix_worker__updated"))

    op.drop_table("worker")

    with op.batch_alter_table("work_queue", schema=None) as batch_op:
        batch_op.drop_index("ix_work_queue__work_pool_id__priority")
        batch_op.drop_index(batch_op.f("ix_work_queue__updated"))

    op.drop_table("work_queue")

    with op.batch_alter_table("work_pool", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_work_pool__updated"))
        batch_op.drop_index("ix_work_pool__type")

    op.drop_table("work_pool")

    with op.batch_alter_table("flow", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_flow__updated"))

    op.drop_table("flow")
