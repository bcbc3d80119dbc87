"""Automations and their state: the automation (trigger and actions as JSON), the resources it relates to, the
trigger buckets that count events, the events already counted, composite children's firings, each firing, and each
action run of a firing (the exactly-once key)."""

from __future__ import annotations

import sqlalchemy as sa

from baton.server.database.tables.base import base_columns, json_column, metadata
from baton.server.database.types import Timestamp, utcnow

automation = sa.Table(
    "automation",
    metadata,
    *base_columns(),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("description", sa.Text(), nullable=False, default=""),
    sa.Column("enabled", sa.Boolean(), nullable=False, default=True),
    json_column("tags", default=[], nullable=False),
    json_column("trigger", nullable=False),
    json_column("actions", default=[], nullable=False),
    json_column("actions_on_trigger", default=[], nullable=False),
    json_column("actions_on_resolve", default=[], nullable=False),
    sa.Index("ix_automation__name", "name"),
    sa.Index("ix_automation__enabled", "enabled"),
)

# A resource an automation relates to: its owner (a deployment whose triggers made it) or a deployment its actions
# name. `prefect deployment inspect` reads these; a redeploy deletes the automations owned by the deployment.
automation_related_resource = sa.Table(
    "automation_related_resource",
    metadata,
    *base_columns(index_updated=False),
    sa.Column("automation_id", sa.Uuid(), sa.ForeignKey("automation.id", ondelete="CASCADE"), nullable=False),
    sa.Column("resource_id", sa.String(500), nullable=False),
    sa.Column("automation_owned_by_resource", sa.Boolean(), nullable=False, default=False),
    sa.UniqueConstraint("automation_id", "resource_id"),
    sa.Index("ix_automation_related_resource__resource_id", "resource_id"),
)

# One counting window of one trigger for one value of its `for_each` labels.
automation_bucket = sa.Table(
    "automation_bucket",
    metadata,
    *base_columns(index_updated=False),
    sa.Column("automation_id", sa.Uuid(), sa.ForeignKey("automation.id", ondelete="CASCADE"), nullable=False),
    sa.Column("trigger_id", sa.Uuid(), nullable=False),
    sa.Column("bucketing_key", sa.String(2000), nullable=False),
    json_column("triggering_labels", default={}, nullable=False),
    sa.Column("start", Timestamp(), nullable=False),
    sa.Column("end", Timestamp(), nullable=False),
    sa.Column("count", sa.Integer(), nullable=False, default=0),
    json_column("last_event", nullable=True),
    sa.Column("last_operation", sa.String(50), nullable=True),
    sa.Column("triggered_at", Timestamp(), nullable=True),
    sa.UniqueConstraint("trigger_id", "bucketing_key"),
    sa.Index("ix_automation_bucket__end", "end"),
    sa.Index("ix_automation_bucket__automation_id", "automation_id"),
)

# The events a trigger has already counted: a redelivered batch counts nothing twice.
automation_counted_event = sa.Table(
    "automation_counted_event",
    metadata,
    sa.Column("trigger_id", sa.Uuid(), primary_key=True),
    sa.Column("event_id", sa.Uuid(), primary_key=True),
    sa.Column("automation_id", sa.Uuid(), sa.ForeignKey("automation.id", ondelete="CASCADE"), nullable=False),
    sa.Column("created", Timestamp(), nullable=False, default=utcnow),
    sa.Index("ix_automation_counted_event__created", "created"),
    sa.Index("ix_automation_counted_event__automation_id", "automation_id"),
)

# A child trigger's firing held by its compound or sequence parent until the parent fires or the window passes.
composite_trigger_child_firing = sa.Table(
    "composite_trigger_child_firing",
    metadata,
    *base_columns(index_updated=False),
    sa.Column("automation_id", sa.Uuid(), sa.ForeignKey("automation.id", ondelete="CASCADE"), nullable=False),
    sa.Column("parent_trigger_id", sa.Uuid(), nullable=False),
    sa.Column("child_trigger_id", sa.Uuid(), nullable=False),
    sa.Column("child_firing_id", sa.Uuid(), nullable=False),
    sa.Column("child_fired_at", Timestamp(), nullable=False),
    json_column("child_firing", default={}, nullable=False),
    sa.UniqueConstraint("parent_trigger_id", "child_trigger_id"),
    sa.Index("ix_composite_trigger_child_firing__automation_id", "automation_id"),
)

# A trigger changing state (Triggered or Resolved). `firing_key` is derived from what fired (trigger, bucket,
# window or triggering event), so evaluating the same input twice records one firing.
automation_firing = sa.Table(
    "automation_firing",
    metadata,
    *base_columns(index_updated=False),
    sa.Column("automation_id", sa.Uuid(), sa.ForeignKey("automation.id", ondelete="CASCADE"), nullable=False),
    sa.Column("trigger_id", sa.Uuid(), nullable=False),
    sa.Column("firing_key", sa.String(500), nullable=False),
    sa.Column("trigger_state", sa.String(20), nullable=False),
    sa.Column("occurred", Timestamp(), nullable=False),
    json_column("triggering_labels", default={}, nullable=False),
    json_column("triggering_event", nullable=True),
    json_column("triggering_value", nullable=True),
    sa.UniqueConstraint("firing_key"),
    sa.Index("ix_automation_firing__automation_id__occurred", "automation_id", "occurred"),
    sa.Index("ix_automation_firing__occurred", "occurred"),
)

# One action of one firing. Unique per (firing, phase, index): the idempotency key that makes each action of a
# firing run once whatever the queue redelivers.
automation_action_run = sa.Table(
    "automation_action_run",
    metadata,
    *base_columns(),
    sa.Column("firing_id", sa.Uuid(), sa.ForeignKey("automation_firing.id", ondelete="CASCADE"), nullable=False),
    sa.Column("automation_id", sa.Uuid(), sa.ForeignKey("automation.id", ondelete="CASCADE"), nullable=False),
    sa.Column("phase", sa.String(30), nullable=False),
    sa.Column("action_index", sa.Integer(), nullable=False),
    json_column("action", default={}, nullable=False),
    sa.Column("status", sa.String(20), nullable=False, default="PENDING"),
    sa.Column("attempts", sa.Integer(), nullable=False, default=0),
    sa.Column("reason", sa.Text(), nullable=True),
    sa.Column("resulting_resource", sa.String(500), nullable=True),
    sa.Column("started", Timestamp(), nullable=True),
    sa.Column("finished", Timestamp(), nullable=True),
    sa.UniqueConstraint("firing_id", "phase", "action_index"),
    sa.Index("ix_automation_action_run__status__updated", "status", "updated"),
    sa.Index("ix_automation_action_run__automation_id", "automation_id"),
)
