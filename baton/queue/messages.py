"""The message contracts: every actor message Baton sends, its queue, and the shape of its arguments, in one place.

Messages carry ids and small payloads; events travel in batches (one message per batch, not per event), because a
queue round trip per event would cap ingestion long before the database does.
"""

from __future__ import annotations

import uuid
from typing import Any, TypedDict

import dramatiq
import orjson

from baton.queue.names import (
    AUTOMATIONS_QUEUE,
    EVENTS_QUEUE,
    NOTIFICATIONS_QUEUE,
    PERIODIC_QUEUE,
    QUEUES,
    STATE_CHANGES_QUEUE,
)

__all__ = [
    "AUTOMATIONS_QUEUE",
    "EVENTS_QUEUE",
    "NOTIFICATIONS_QUEUE",
    "PERIODIC_QUEUE",
    "QUEUES",
    "STATE_CHANGES_QUEUE",
]

RECORD_EVENTS = "record_events"
EMIT_FLOW_RUN_EVENTS = "emit_flow_run_events"
MARK_LATE_RUNS = "mark_late_runs"
MATCH_NOTIFICATIONS = "match_notifications"
DELIVER_NOTIFICATIONS = "deliver_notifications"
SEND_NOTIFICATION_SUMMARY = "send_notification_summary"
RESUME_STALLED_DELIVERIES = "resume_stalled_deliveries"
EXPIRE_CONCURRENCY_LEASES = "expire_concurrency_leases"
SCHEDULE_DEPLOYMENTS = "schedule_deployments"
UPDATE_WORK_POOL_STATUSES = "update_work_pool_statuses"
MARK_ZOMBIE_RUNS = "mark_zombie_runs"
CANCEL_CHILD_RUNS = "cancel_child_runs"
PRUNE_EXPIRED_DATA = "prune_expired_data"
EVALUATE_TRIGGERS = "evaluate_triggers"
EVALUATE_PROACTIVE_TRIGGERS = "evaluate_proactive_triggers"
EVALUATE_METRIC_TRIGGERS = "evaluate_metric_triggers"
RUN_AUTOMATION_ACTIONS = "run_automation_actions"
RESUME_STALLED_ACTIONS = "resume_stalled_actions"
RESUME_UNPUBLISHED_STATE_CHANGES = "resume_unpublished_state_changes"

ACTOR_QUEUES = {
    RECORD_EVENTS: EVENTS_QUEUE,
    EMIT_FLOW_RUN_EVENTS: STATE_CHANGES_QUEUE,
    MARK_LATE_RUNS: PERIODIC_QUEUE,
    MATCH_NOTIFICATIONS: NOTIFICATIONS_QUEUE,
    DELIVER_NOTIFICATIONS: NOTIFICATIONS_QUEUE,
    SEND_NOTIFICATION_SUMMARY: NOTIFICATIONS_QUEUE,
    RESUME_STALLED_DELIVERIES: PERIODIC_QUEUE,
    EXPIRE_CONCURRENCY_LEASES: PERIODIC_QUEUE,
    SCHEDULE_DEPLOYMENTS: PERIODIC_QUEUE,
    UPDATE_WORK_POOL_STATUSES: PERIODIC_QUEUE,
    MARK_ZOMBIE_RUNS: PERIODIC_QUEUE,
    CANCEL_CHILD_RUNS: PERIODIC_QUEUE,
    PRUNE_EXPIRED_DATA: PERIODIC_QUEUE,
    EVALUATE_TRIGGERS: AUTOMATIONS_QUEUE,
    EVALUATE_PROACTIVE_TRIGGERS: PERIODIC_QUEUE,
    EVALUATE_METRIC_TRIGGERS: PERIODIC_QUEUE,
    RUN_AUTOMATION_ACTIONS: AUTOMATIONS_QUEUE,
    RESUME_STALLED_ACTIONS: PERIODIC_QUEUE,
    RESUME_UNPUBLISHED_STATE_CHANGES: PERIODIC_QUEUE,
}


# An event as the server queues it: a JSON-mode dict with `received` set, or the JSON text of one (the websocket
# keeps a plain event's frame text, see `events_in.plainly_valid_event_text`).
QueuedEvent = dict[str, Any] | orjson.Fragment


class StateRef(TypedDict):
    """A state a flow run left: enough to describe the transition without reading history."""

    id: str
    type: str
    name: str


class FlowRunStateChange(TypedDict):
    """A flow run whose new state (`state_id`) was committed; `from_state` is None for its first state."""

    flow_run_id: str
    state_id: str
    from_state: StateRef | None


#: The keyword argument naming the workspace a message is for (absent: the default workspace). Every actor takes it.
WORKSPACE_KWARG = "workspace"


def in_workspace(message: dramatiq.Message[Any], workspace_id: uuid.UUID | None) -> dramatiq.Message[Any]:
    """`message` for workspace `workspace_id` (None: the default workspace, the message as it is): its actor runs
    against that workspace's store."""
    if workspace_id is None:
        return message
    return message.copy(kwargs={**message.kwargs, WORKSPACE_KWARG: str(workspace_id)})


#: The keyword argument of a periodic job's message from the beat: its actor also sends it on to every workspace,
#: spread over this many seconds.
EVERY_WORKSPACE_KWARG = "every_workspace"


def for_every_workspace(message: dramatiq.Message[Any], spread_seconds: float) -> dramatiq.Message[Any]:
    """`message` (a periodic job's) to be run in the default workspace and sent on to every other one, their
    messages spread over `spread_seconds`."""
    return message.copy(kwargs={**message.kwargs, EVERY_WORKSPACE_KWARG: spread_seconds})


def workspace_of(message: dramatiq.Message[Any]) -> uuid.UUID | None:
    """The workspace `message` is for (None: the default workspace)."""
    value = message.kwargs.get(WORKSPACE_KWARG)
    return uuid.UUID(value) if value else None


def message(actor_name: str, *args: Any) -> dramatiq.Message[Any]:
    """The Dramatiq message calling `actor_name(*args)` on its queue."""
    return dramatiq.Message(
        queue_name=ACTOR_QUEUES[actor_name], actor_name=actor_name, args=args, kwargs={}, options={}
    )


def record_events(events: list[QueuedEvent]) -> dramatiq.Message[Any]:
    """Persist a batch of events (JSON-mode dicts with `received` set, or their JSON text). The batch travels as one
    JSON text: the services hand it to PostgreSQL as it is, instead of decoding every event and encoding it again."""
    return message(RECORD_EVENTS, orjson.dumps(events).decode())


def emit_flow_run_events(changes: list[FlowRunStateChange]) -> dramatiq.Message[Any]:
    """Build and persist `prefect.flow-run.<State>` events for committed state changes."""
    return message(EMIT_FLOW_RUN_EVENTS, changes)


def mark_late_runs() -> dramatiq.Message[Any]:
    return message(MARK_LATE_RUNS)


def match_notifications(changes: list[FlowRunStateChange]) -> dramatiq.Message[Any]:
    """Find the active policies matching committed flow-run state changes; queue a delivery per match."""
    return message(MATCH_NOTIFICATIONS, changes)


def deliver_notifications(delivery_ids: list[str]) -> dramatiq.Message[Any]:
    """Render and send a batch of deliveries (each a policy matching one flow-run state), recording the attempts."""
    return message(DELIVER_NOTIFICATIONS, delivery_ids)


def send_notification_summary(first_delivery_id: str) -> dramatiq.Message[Any]:
    """At the end of a throttle window, send one message counting the deliveries held back in it."""
    return message(SEND_NOTIFICATION_SUMMARY, first_delivery_id)


def resume_stalled_deliveries() -> dramatiq.Message[Any]:
    return message(RESUME_STALLED_DELIVERIES)


def resume_unpublished_state_changes() -> dramatiq.Message[Any]:
    """Emit the events of committed flow-run states whose `emit_flow_run_events` message was lost."""
    return message(RESUME_UNPUBLISHED_STATE_CHANGES)


def expire_concurrency_leases() -> dramatiq.Message[Any]:
    return message(EXPIRE_CONCURRENCY_LEASES)


def schedule_deployments(deployment_ids: list[str] | None = None) -> dramatiq.Message[Any]:
    """Insert the upcoming Scheduled runs of the deployments named (of every active deployment when None)."""
    return message(SCHEDULE_DEPLOYMENTS, deployment_ids)


def update_work_pool_statuses() -> dramatiq.Message[Any]:
    """Silent workers OFFLINE, pools without an online worker NOT_READY, unpolled queues and deployments NOT_READY."""
    return message(UPDATE_WORK_POOL_STATUSES)


def mark_zombie_runs() -> dramatiq.Message[Any]:
    """Running flow runs whose heartbeat stopped become Crashed; Cancelling ones left behind become Cancelled."""
    return message(MARK_ZOMBIE_RUNS)


def prune_expired_data() -> dramatiq.Message[Any]:
    """One retention pass: runs, logs, artifacts, events, deliveries, firings and audit entries older than their
    `*_retention_days` settings are deleted (for audit entries, the only way they leave the log)."""
    return message(PRUNE_EXPIRED_DATA)


def cancel_child_runs(flow_run_ids: list[str]) -> dramatiq.Message[Any]:
    """The unfinished task runs and subflow runs of these Cancelled flow runs are cancelled too."""
    return message(CANCEL_CHILD_RUNS, flow_run_ids)


def evaluate_triggers(events: list[QueuedEvent]) -> dramatiq.Message[Any]:
    """Count a batch of recorded events against the enabled automations' reactive triggers; record the firings and
    queue their actions. The batch travels as one JSON text, as `record_events` does."""
    return message(EVALUATE_TRIGGERS, orjson.dumps(events).decode())


def evaluate_proactive_triggers() -> dramatiq.Message[Any]:
    """Fire the proactive triggers whose window closed with fewer events than expected."""
    return message(EVALUATE_PROACTIVE_TRIGGERS)


def evaluate_metric_triggers() -> dramatiq.Message[Any]:
    """Query the metrics of metric triggers; fire or resolve those that breached (or recovered) for long enough."""
    return message(EVALUATE_METRIC_TRIGGERS)


def run_automation_actions(action_run_ids: list[str]) -> dramatiq.Message[Any]:
    """Run these action runs of firings, each once (`models.automations.firings.claim_action_run`)."""
    return message(RUN_AUTOMATION_ACTIONS, action_run_ids)


def resume_stalled_actions() -> dramatiq.Message[Any]:
    """Queue again the action runs whose message was lost or whose process died."""
    return message(RESUME_STALLED_ACTIONS)
