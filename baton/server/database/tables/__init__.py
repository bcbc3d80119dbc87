"""Every table Baton persists, as SQLAlchemy Core tables on one MetaData.

Importing this package registers all tables; `metadata` is what migrations are checked against.
"""

from __future__ import annotations

from baton.server.database.tables.automations import (
    automation,
    automation_action_run,
    automation_bucket,
    automation_counted_event,
    automation_firing,
    automation_related_resource,
    composite_trigger_child_firing,
)
from baton.server.database.tables.base import metadata
from baton.server.database.tables.blocks import (
    block_document,
    block_document_reference,
    block_schema,
    block_schema_reference,
    block_type,
)
from baton.server.database.tables.concurrency import concurrency_lease, concurrency_lease_limit, concurrency_limit_v2
from baton.server.database.tables.configuration import (
    artifact,
    artifact_collection,
    configuration,
    csrf_token,
    saved_search,
    variable,
)
from baton.server.database.tables.deployments import deployment, deployment_schedule, work_pool, work_queue, worker
from baton.server.database.tables.events import events
from baton.server.database.tables.identity import (
    account,
    api_key,
    audit_entry,
    auth_generation,
    auth_session,
    custom_role,
)
from baton.server.database.tables.notifications import notification_delivery, notification_policy
from baton.server.database.tables.runs import (
    flow,
    flow_run,
    flow_run_input,
    flow_run_state,
    log,
    task_run,
    task_run_state,
    task_run_state_cache,
)
from baton.server.database.tables.workspaces import workspace, workspace_member

#: The tables of the main schema only: who may call, the audit log, the workspaces themselves. Every other table exists
#: once per workspace, in that workspace's store.
GLOBAL_TABLES = frozenset(
    {account, api_key, audit_entry, auth_generation, auth_session, custom_role, csrf_token, workspace, workspace_member}
)
#: The tables each workspace has, in the order `metadata` creates them.
WORKSPACE_TABLES = tuple(table for table in metadata.sorted_tables if table not in GLOBAL_TABLES)

__all__ = [
    "GLOBAL_TABLES",
    "WORKSPACE_TABLES",
    "automation",
    "automation_action_run",
    "automation_bucket",
    "automation_counted_event",
    "automation_firing",
    "automation_related_resource",
    "composite_trigger_child_firing",
    "account",
    "api_key",
    "audit_entry",
    "auth_generation",
    "auth_session",
    "custom_role",
    "artifact",
    "artifact_collection",
    "block_document",
    "block_document_reference",
    "block_schema",
    "block_schema_reference",
    "block_type",
    "concurrency_lease",
    "concurrency_lease_limit",
    "concurrency_limit_v2",
    "configuration",
    "csrf_token",
    "deployment",
    "deployment_schedule",
    "events",
    "flow",
    "flow_run",
    "flow_run_input",
    "flow_run_state",
    "log",
    "metadata",
    "notification_delivery",
    "notification_policy",
    "saved_search",
    "task_run",
    "task_run_state",
    "task_run_state_cache",
    "variable",
    "work_pool",
    "work_queue",
    "worker",
    "workspace",
    "workspace_member",
]
