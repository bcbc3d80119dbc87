"""The executors of automation actions, one module per family, and the one entry point per kind of executor.

`run_local` runs an action that only changes Baton's database inside the caller's write transaction (which also
records the outcome); `run_remote` runs one that reaches outside (a notification, a webhook), outside any
transaction. Both raise ActionFailed with a reason a person understands, and nothing else for an expected case: a
template that does not render, an unknown object, a refused transition."""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter, ValidationError
from sqlalchemy.ext.asyncio import AsyncConnection

from baton.errors import BatonError
from baton.server.automations.actions import automations, deployments, flow_runs, work_pools
from baton.server.automations.actions.base import ActionContext, ActionFailed, LocalExecutor, RemoteExecutor
from baton.server.automations.rendering import TemplateRenderFailed
from baton.server.database.engine import Database
from baton.server.schemas.automations import Action, ActionTypes


async def do_nothing(connection: AsyncConnection, context: ActionContext, action: Any) -> None:
    return None


LOCAL_EXECUTORS: dict[str, LocalExecutor] = {
    "do-nothing": do_nothing,
    "run-deployment": deployments.run_deployment,
    "pause-deployment": deployments.pause_deployment,
    "resume-deployment": deployments.resume_deployment,
    "change-flow-run-state": flow_runs.change_flow_run_state,
    "cancel-flow-run": flow_runs.cancel_flow_run,
    "suspend-flow-run": flow_runs.suspend_flow_run,
    "resume-flow-run": flow_runs.resume_flow_run,
    "delete-flow-run": flow_runs.delete_flow_run,
    "pause-work-pool": work_pools.pause_work_pool,
    "resume-work-pool": work_pools.resume_work_pool,
    "pause-work-queue": work_pools.pause_work_queue,
    "resume-work-queue": work_pools.resume_work_queue,
    "pause-automation": automations.pause_automation,
    "resume-automation": automations.resume_automation,
}
# Actions that reach outside Baton; their module (and the HTTP client under the notification channels) is imported on
# the first one, so that a server with no such action never loads it.
REMOTE_ACTION_TYPES = frozenset({"send-notification", "call-webhook"})

_ACTION = TypeAdapter(ActionTypes)


def parse_action(stored: dict[str, Any]) -> Action:
    """The stored action as its model; ActionFailed when it no longer validates."""
    try:
        return _ACTION.validate_python(stored)
    except ValidationError as exc:
        raise ActionFailed(f"The action is not valid: {exc.errors()[0]['msg']}") from None


def is_remote(action: Action) -> bool:
    return action.type in REMOTE_ACTION_TYPES


def _failed(context: ActionContext, exc: Exception) -> ActionFailed:
    if isinstance(exc, ActionFailed):
        return exc
    if isinstance(exc, TemplateRenderFailed):
        context.details["template_error"] = str(exc.error)
        context.details["template_source"] = exc.template
        return ActionFailed(str(exc))
    assert isinstance(exc, BatonError)
    return ActionFailed(exc.message)


async def run_local(connection: AsyncConnection, context: ActionContext, action: Action) -> None:
    """Execute a database-only action in the caller's transaction."""
    try:
        await LOCAL_EXECUTORS[action.type](connection, context, action)
    except (ActionFailed, TemplateRenderFailed, BatonError) as exc:
        raise _failed(context, exc) from exc


async def run_remote(database: Database, context: ActionContext, action: Action) -> None:
    """Execute an action that reaches outside Baton."""
    from baton.server.automations.actions import notifications

    executors: dict[str, RemoteExecutor] = {
        "send-notification": notifications.send_notification,
        "call-webhook": notifications.call_webhook,
    }
    try:
        await executors[action.type](database, context, action)
    except (ActionFailed, TemplateRenderFailed, BatonError) as exc:
        raise _failed(context, exc) from exc


__all__ = ["ActionContext", "ActionFailed", "is_remote", "parse_action", "run_local", "run_remote"]
