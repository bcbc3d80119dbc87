"""Periodic job: evaluate the metric triggers of the enabled automations, fire Triggered when a metric breached its
threshold for `firing_for`, Resolved when it stopped breaching for `firing_for` after that.

The state of each (trigger, resource) pair lives in `automation_bucket` and is read and written under the
automation's row lock, so any services process may run the job and a pair fires once per transition (the firing
key, derived from the breach's start, makes a repeated write a no-op too). The metric is read before the lock, in
a read transaction of its own: the lock is held only for the few rows of state and the firing."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from typing import Any

from pydantic import TypeAdapter, ValidationError

from baton.actors.quiet import NothingDue
from baton.actors.runtime import ActorRuntime
from baton.queue import messages
from baton.server.automations.firing import trigger_fired
from baton.server.automations.metric_triggers import ALL_RUNS, breaches, decide, firing_key, grouping_kind
from baton.server.database.engine import Database
from baton.server.database.types import utcnow
from baton.server.models.automations.automations import read_enabled_automations
from baton.server.models.automations.metric_state import lock_automation, read_metric_states, save_metric_state
from baton.server.models.automations.metrics import MetricGroup, UnsupportedSpecification, read_metric
from baton.server.schemas.automations import MetricTrigger, Trigger, TriggerTypes, all_triggers

logger = logging.getLogger("baton.actors")

_TRIGGER: TypeAdapter[Trigger] = TypeAdapter(TriggerTypes)
# Triggers already reported as not evaluated (nested in a composite trigger, or unsupported), so that a sweep
# every 30 seconds logs each once per process.
_reported: set[uuid.UUID] = set()


async def evaluate_metric_triggers(runtime: ActorRuntime, now: dt.datetime | None = None) -> NothingDue | None:
    """Evaluate every enabled automation whose trigger is a metric trigger at `now` (the current time unless a test
    gives one), and queue the actions of what fired once each automation's changes are committed. With no such
    automation, nothing is due before a write."""
    now = now or utcnow()
    database = await runtime.database()
    async with database.read() as connection:
        automations = await read_enabled_automations(connection)
    metric_triggers = [(each, trigger) for each in automations if (trigger := _metric_trigger(each)) is not None]
    if not metric_triggers:
        return NothingDue()
    for automation, trigger in metric_triggers:
        action_run_ids, events = await _evaluate(database, automation, trigger, now)
        if events:
            # Other automations may react to `prefect.automation.triggered|resolved`.
            runtime.broker.enqueue(messages.evaluate_triggers(list[messages.QueuedEvent](events)))
        if action_run_ids:
            runtime.broker.enqueue(messages.run_automation_actions([str(each) for each in action_run_ids]))
    return None


def _metric_trigger(automation: dict[str, Any]) -> MetricTrigger | None:
    """The automation's top-level metric trigger; None for other triggers. A metric trigger inside a compound or
    sequence trigger is not evaluated (logged once)."""
    if not _mentions_metric(automation["trigger"]):
        return None
    try:
        trigger = _TRIGGER.validate_python(automation["trigger"])
    except ValidationError:
        _report_once(automation["id"], "Automation %s has a trigger that no longer validates; not evaluated")
        return None
    if isinstance(trigger, MetricTrigger):
        return trigger
    if any(isinstance(each, MetricTrigger) for each in all_triggers(trigger)):
        _report_once(
            automation["id"],
            "Automation %s nests a metric trigger in a composite trigger; metric triggers are only "
            "evaluated as an automation's own trigger",
        )
    return None


def _mentions_metric(trigger: Any) -> bool:
    """A cheap look at the stored JSON before parsing it: most automations have no metric trigger."""
    if not isinstance(trigger, dict):
        return False
    if trigger.get("type") == "metric" or trigger.get("posture") == "Metric":
        return True
    return any(_mentions_metric(child) for child in trigger.get("triggers") or [])


def _report_once(key: uuid.UUID, message: str, *args: Any) -> None:
    if key not in _reported:
        _reported.add(key)
        logger.warning(message, key, *args)


async def _evaluate(
    database: Database, automation: dict[str, Any], trigger: MetricTrigger, now: dt.datetime
) -> tuple[list[uuid.UUID], list[dict[str, Any]]]:
    """Evaluate one automation's trigger: the action runs and events of what fired."""
    try:
        async with database.read() as connection:
            groups = await read_metric(connection, trigger, now)
    except UnsupportedSpecification as error:
        _report_once(trigger.id, "Metric trigger %s is not evaluated: its %s cannot be queried", error)
        return [], []
    kind = grouping_kind(trigger)
    action_run_ids: list[uuid.UUID] = []
    events: list[dict[str, Any]] = []
    async with database.write() as connection:
        current = await lock_automation(connection, automation["id"])
        # Replaced (new trigger ids) or disabled since it was read: its state was forgotten, nothing to evaluate.
        if current is None or not current["enabled"] or current["trigger"].get("id") != str(trigger.id):
            return [], []
        states = await read_metric_states(connection, trigger.id)
        for resource in sorted(groups.keys() | states.keys()):
            group: MetricGroup | None = groups.get(resource)
            value = group.value if group else None
            breaching = breaches(value, trigger.metric.operator, trigger.metric.threshold)
            decision = decide(states.get(resource), breaching, now, trigger.metric.firing_for)
            labels = _labels(resource, kind)
            await save_metric_state(
                connection,
                automation["id"],
                trigger.id,
                resource,
                decision.state,
                labels=labels,
                runs=group.runs if group else 0,
                value=value,
                evaluated=now,
            )
            if decision.fire is None:
                continue
            episode = (decision.state or states[resource]).breach_start
            outcome = await trigger_fired(
                connection,
                current,
                trigger_id=trigger.id,
                state=decision.fire,
                firing_key=firing_key(trigger.id, resource, episode, decision.fire),
                occurred=now,
                triggering_labels=labels,
                triggering_value=value,
            )
            action_run_ids.extend(outcome.action_run_ids)
            events.extend(outcome.events)
    if action_run_ids or events:
        logger.info("Metric trigger %s of automation %s fired", trigger.id, automation["id"])
    return action_run_ids, events


def _labels(resource: str, kind: str | None) -> dict[str, str]:
    """The triggering labels of a group: the resource it is about, with its role; none for all runs."""
    if resource == ALL_RUNS or kind is None:
        return {}
    return {"prefect.resource.id": resource, "prefect.resource.role": kind}
