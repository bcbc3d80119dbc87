"""Notification message templates: Python `str.format` placeholders, as Prefect 2's policies used them.

Only plain placeholder names from `PLACEHOLDERS` are allowed (no attribute access or indexing, which `str.format`
would otherwise evaluate), so a template is checked once, when it is saved, and rendering cannot fail afterwards.
"""

from __future__ import annotations

import datetime as dt
import string
import zoneinfo
from typing import Any

import orjson

PLACEHOLDERS: dict[str, str] = {
    "flow_run_name": "the run's name, e.g. fuzzy-leopard",
    "flow_run_id": "the run's id",
    "flow_run_url": "the run's page in the Baton UI",
    "flow_run_tags": "the run's tags, comma-separated",
    "flow_run_parameters": "the run's parameters as JSON",
    "flow_run_state_name": "the state's name, e.g. Failed",
    "flow_run_state_type": "the state's type, e.g. FAILED",
    "flow_run_state_message": "the state's message",
    "flow_run_state_timestamp": "when the run entered the state, in BATON_NOTIFICATIONS_TIME_ZONE",
    "flow_name": "the flow's name",
    "flow_id": "the flow's id",
    "flow_run_notification_policy_id": "the policy's id",
}

DEFAULT_TEMPLATE = (
    "The {flow_run_name} run of the {flow_name} flow entered state {flow_run_state_name} at "
    "{flow_run_state_timestamp}.\n"
    "State message: {flow_run_state_message}\n"
    "Tags: {flow_run_tags}\n"
    "{flow_run_url}"
)
SUBJECT_TEMPLATE = "Baton: {flow_name}/{flow_run_name} is {flow_run_state_name}"
# A body longer than this is cut (chat services refuse long messages; e-mail does not need more).
MAX_MESSAGE_LENGTH = 4000


class TemplateError(ValueError):
    """A template that cannot be rendered; the message names the problem."""


def check_template(template: str) -> None:
    """Raise TemplateError naming the first unknown placeholder or syntax error in `template`."""
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise TemplateError(
            f"The message template is not valid: {exc} (write {{{{ and }}}} for literal braces)"
        ) from None
    for _, field, spec, conversion in parts:
        if field is None:
            continue
        if field not in PLACEHOLDERS:
            known = ", ".join(f"{{{name}}}" for name in PLACEHOLDERS)
            shown = f"{{{field}}}" if field else "{}"
            raise TemplateError(f"Unknown placeholder {shown} in the message template; use one of {known}")
        if spec or conversion:
            raise TemplateError(f"Placeholder {{{field}}} may not have a format spec or conversion")


def format_time(moment: dt.datetime, time_zone: str) -> str:
    """`moment` in `time_zone`, with the zone's abbreviation, e.g. 2026-06-27 16:21:37 EST."""
    local = moment.astimezone(zoneinfo.ZoneInfo(time_zone))
    return local.strftime("%Y-%m-%d %H:%M:%S %Z")


def placeholder_values(
    *,
    policy_id: Any,
    flow: dict[str, Any],
    run: dict[str, Any],
    state: dict[str, Any],
    ui_url: str,
    time_zone: str,
) -> dict[str, str]:
    """Every placeholder's text for one run entering one state."""
    return {
        "flow_run_name": str(run["name"]),
        "flow_run_id": str(run["id"]),
        "flow_run_url": f"{ui_url.rstrip('/')}/runs/flow-run/{run['id']}",
        "flow_run_tags": ", ".join(run.get("tags") or []) or "none",
        "flow_run_parameters": orjson.dumps(run.get("parameters") or {}).decode(),
        "flow_run_state_name": str(state["name"]),
        "flow_run_state_type": str(state["type"]),
        "flow_run_state_message": str(state.get("message") or ""),
        "flow_run_state_timestamp": format_time(state["timestamp"], time_zone),
        "flow_name": str(flow["name"]),
        "flow_id": str(flow["id"]),
        "flow_run_notification_policy_id": str(policy_id),
    }


def render(template: str | None, values: dict[str, str]) -> str:
    """The message for `values`; `template` must have passed `check_template` (None means the default)."""
    message = (template or DEFAULT_TEMPLATE).format_map(values)
    return message if len(message) <= MAX_MESSAGE_LENGTH else message[: MAX_MESSAGE_LENGTH - 1] + "…"


def render_subject(values: dict[str, str]) -> str:
    return SUBJECT_TEMPLATE.format_map(values)
