"""Automations in words: a trigger's and an action's one-line summary for the list and the detail page, and the page
a firing's resource or resulting resource links to.

The summaries read the stored JSON (what the API validated), so a trigger the forms cannot make is still described,
in general terms."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from baton.webui.formatting import duration

FLOW_RUN_PREFIX = "prefect.flow-run."
# The UI page of each resource kind Baton has a page for.
RESOURCE_PAGES = {
    FLOW_RUN_PREFIX: "/runs/flow-run/",
    "prefect.flow.": "/flows/",
    "prefect.deployment.": "/deployments/",
    "prefect.work-pool.": "/work-pools/",
    "prefect.automation.": "/automations/",
    "prefect.block-document.": "/blocks/",
}
METRIC_WORDS = {"lateness": "lateness (s)", "duration": "run duration (s)", "successes": "share of successful runs"}
# Names of the objects an action names, by id: deployments, work pools, work queues, automations, blocks.
Names = Mapping[str, str]


def resource_page(resource_id: str | None) -> str | None:
    """The UI page of a resource id such as prefect.flow-run.<id>, where Baton has one."""
    if not resource_id:
        return None
    for prefix, page in RESOURCE_PAGES.items():
        if resource_id.startswith(prefix):
            return page + resource_id.removeprefix(prefix)
    return None


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return [str(each) for each in value]


def _names(patterns: list[str], prefix: str, names: Names) -> str:
    """'any' for a wildcard, else the objects' names (or their ids) joined."""
    if not patterns or any(pattern in ("*", prefix + "*") for pattern in patterns):
        return ""
    return ", ".join(names.get(pattern.removeprefix(prefix), pattern.removeprefix(prefix)) for pattern in patterns)


def _event_names(events: Any) -> str:
    return ", ".join(sorted(_as_list(events))) or "any event"


def _related_words(match_related: Any, names: Names) -> str:
    """' for flows a, b' and the like, from match_related (one specification or a list of them)."""
    specs = match_related if isinstance(match_related, list) else [match_related or {}]
    parts = []
    for spec in specs:
        ids = _as_list(spec.get("prefect.resource.id"))
        known = False
        for kind, prefix in (("flow", "prefect.flow."), ("deployment", "prefect.deployment."), ("tag", "prefect.tag.")):
            chosen = [each for each in ids if each.startswith(prefix)]
            label = _names(chosen, prefix, names)
            if label:
                known = True
                parts.append(f"{kind}{'s' if len(chosen) > 1 else ''} {label}")
        if spec and not known:
            parts.append("related resources matching " + ", ".join(f"{key}={value}" for key, value in spec.items()))
    return (" for " + " and ".join(parts)) if parts else ""


def describe_trigger(trigger: Mapping[str, Any], names: Names | None = None) -> str:
    """One sentence saying when the trigger fires."""
    names = names or {}
    kind = trigger.get("type", "event")
    if kind in ("compound", "sequence"):
        children = trigger.get("triggers") or []
        require = trigger.get("require")
        within = trigger.get("within")
        how = (
            "in order" if kind == "sequence" else {"any": "any of", "all": "all of"}.get(str(require), f"{require} of")
        )
        window = f" within {duration(within)}" if within else ""
        inner = "; ".join(describe_trigger(child, names) for child in children)
        return f"When {how} {len(children)} triggers fire{window}: {inner}"
    if kind == "metric":
        metric = trigger.get("metric") or {}
        subject = _related_words(trigger.get("match_related"), names) or " for the matching runs"
        name = str(metric.get("name"))
        return (
            f"When the {METRIC_WORDS.get(name, name)}{subject} over "
            f"{duration(metric.get('range'))} is {metric.get('operator')} {metric.get('threshold')} "
            f"for {duration(metric.get('firing_for'))}"
        )
    return _describe_event_trigger(trigger, names)


def _describe_event_trigger(trigger: Mapping[str, Any], names: Names) -> str:
    match = trigger.get("match") or {}
    resource_ids = _as_list(match.get("prefect.resource.id"))
    expect = sorted(_as_list(trigger.get("expect")))
    after = sorted(_as_list(trigger.get("after")))
    within = trigger.get("within") or 0
    threshold = trigger.get("threshold", 1)
    related = _related_words(trigger.get("match_related"), names)
    proactive = trigger.get("posture") == "Proactive"
    flow_runs = resource_ids and all(each.startswith(FLOW_RUN_PREFIX) for each in resource_ids)
    if flow_runs and all(each.startswith(FLOW_RUN_PREFIX) for each in expect + after):
        states = [each.removeprefix(FLOW_RUN_PREFIX) for each in (after if proactive else expect)]
        state_words = "any state" if not states or "*" in states else " or ".join(states)
        if proactive:
            return f"When a flow run{related} stays in {state_words} for {duration(within)}"
        return f"When a flow run{related} enters {state_words}"
    for label, prefix in (("work pool", "prefect.work-pool."), ("work queue", "prefect.work-queue."),
                          ("deployment", "prefect.deployment.")):  # fmt: skip
        events = expect + after
        if resource_ids and all(each.startswith(prefix) for each in resource_ids + events) and events:
            chosen = _names(resource_ids, prefix, names)
            subject = f"{label} {chosen}" if chosen else f"any {label}"
            status = (after if proactive else expect)[0].removeprefix(prefix).replace("_", " ").replace("-", " ")
            if proactive:
                return f"When {subject}{related} stays {status} for {duration(within)}"
            return f"When {subject}{related} becomes {status}"
    resource = f" for resources matching {', '.join(resource_ids)}" if resource_ids else ""
    count = f"{threshold} × " if threshold and threshold != 1 else ""
    if proactive:
        armed = f"after {_event_names(after)}, " if after else ""
        expected = f"{_event_names(expect)}{resource}{related}"
        if threshold == 1:
            return f"When, {armed}no {expected} arrives within {duration(within)}"
        return f"When, {armed}fewer than {threshold} {expected} arrive within {duration(within)}"
    window = f" within {duration(within)}" if within else ""
    armed = f" after {_event_names(after)}" if after else ""
    return f"When {count}{_event_names(expect)}{resource}{related} arrive{window}{armed}"


ACTION_WORDS = {
    "do-nothing": "Do nothing",
    "cancel-flow-run": "Cancel the flow run",
    "suspend-flow-run": "Suspend the flow run",
    "resume-flow-run": "Resume the flow run",
    "delete-flow-run": "Delete the flow run",
}
SELECTED_ACTIONS = {
    "run-deployment": ("Run deployment", "deployment_id"),
    "pause-deployment": ("Pause deployment", "deployment_id"),
    "resume-deployment": ("Resume deployment", "deployment_id"),
    "pause-work-pool": ("Pause work pool", "work_pool_id"),
    "resume-work-pool": ("Resume work pool", "work_pool_id"),
    "pause-work-queue": ("Pause work queue", "work_queue_id"),
    "resume-work-queue": ("Resume work queue", "work_queue_id"),
    "pause-automation": ("Pause automation", "automation_id"),
    "resume-automation": ("Resume automation", "automation_id"),
}


def describe_action(action: Mapping[str, Any], names: Names | None = None) -> str:
    """One line saying what the action does."""
    names = names or {}
    kind = str(action.get("type"))
    if kind in ACTION_WORDS:
        return ACTION_WORDS[kind]
    if kind in SELECTED_ACTIONS:
        verb, field = SELECTED_ACTIONS[kind]
        target = action.get(field)
        if action.get("source") == "inferred" or target is None:
            return f"{verb.split(' ', 1)[0]} the triggering event's {verb.split(' ', 1)[1]}"
        words = f"{verb} {names.get(str(target), str(target))}"
        if kind == "run-deployment" and action.get("parameters"):
            words += " with parameters " + ", ".join(sorted(action["parameters"]))
        return words
    if kind == "change-flow-run-state":
        name = action.get("name") or str(action.get("state", "")).title()
        return f"Change the flow run's state to {name}"
    if kind == "send-notification":
        block = action.get("block_document_id")
        return f"Send a notification through {names.get(str(block), str(block))}: “{action.get('subject', '')}”"
    if kind == "call-webhook":
        block = action.get("block_document_id")
        return f"Call the webhook {names.get(str(block), str(block))}"
    return kind


def describe_actions(actions: list[Mapping[str, Any]], names: Names | None = None) -> str:
    """The actions' summaries joined, for the list page."""
    return "; ".join(describe_action(action, names) for action in actions) or "no actions"
