"""Jinja templates in automation actions: one sandboxed environment, checked when an automation is saved.

Prefect's templates are Jinja2 with its sandbox (no attribute access to private or unsafe members) and the filters
`ui_url`, `ui_resource_events_url` and `flow_run_id`; Baton uses the same engine so that a template written for
Prefect renders the same here. `jinja2` is the library Prefect's own server uses for this; it is imported on first
use, as a process may never see an automation with a template."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from baton.errors import ValidationFailed
from baton.server.schemas.automations import AutomationCore, CallWebhook, RunDeployment, SendNotification

if TYPE_CHECKING:
    from jinja2 import nodes
    from jinja2.sandbox import ImmutableSandboxedEnvironment

# The filters templates may use; `baton.server.automations.rendering` installs their implementations on the
# environment it renders with. Validation only needs their names, so that a template using them compiles.
FILTER_NAMES = ("ui_url", "ui_resource_events_url", "flow_run_id")
# Prefect's limits on loops in a template, refused when it is saved: a template must not keep the actions busy.
MAX_LOOPS = 10
MAX_LOOP_DEPTH = 2


class TemplateInvalid(Exception):
    """A template that does not compile: its line and Jinja's message."""

    def __init__(self, line: int | None, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


def _unavailable(*args: Any, **kwargs: Any) -> Any:
    raise RuntimeError("template filters are installed by the rendering environment")


@functools.cache
def validation_environment() -> ImmutableSandboxedEnvironment:
    return make_environment(dict.fromkeys(FILTER_NAMES, _unavailable))


def make_environment(filters: dict[str, Callable[..., Any]]) -> ImmutableSandboxedEnvironment:
    """A fresh sandboxed environment with `filters` installed (they must cover FILTER_NAMES)."""
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    environment = ImmutableSandboxedEnvironment(enable_async=True)
    environment.filters.update(filters)
    return environment


def check_template(template: str) -> None:
    """Raise TemplateInvalid when `template` does not compile (syntax, unknown filter or test, sandbox refusal) or
    has more loops, or deeper ones, than Prefect allows (those answer line 0, as Prefect's server does)."""
    from jinja2 import TemplateSyntaxError, nodes
    from jinja2.exceptions import SecurityError

    environment = validation_environment()
    try:
        environment.from_string(template)
    except TemplateSyntaxError as exc:
        raise TemplateInvalid(exc.lineno, exc.message or str(exc)) from exc
    except SecurityError as exc:
        raise TemplateInvalid(None, str(exc)) from exc
    root = environment.parse(template)
    loops = sum(1 for _ in root.find_all(nodes.For))
    if loops > MAX_LOOPS:
        raise TemplateInvalid(
            0, f"Contains {loops} for loops. Templates can contain no more than {MAX_LOOPS} for loops."
        )
    depth = _loop_depth(root)
    if depth > MAX_LOOP_DEPTH:
        raise TemplateInvalid(
            0,
            f"Contains nested for loops at a depth of {depth}. Templates can nest for loops no more than "
            f"{MAX_LOOP_DEPTH} loops deep.",
        )


def _loop_depth(node: nodes.Node) -> int:
    """How deep for loops nest in `node`, itself included."""
    from jinja2 import nodes

    inner = max((_loop_depth(child) for child in node.iter_child_nodes()), default=0)
    return inner + (1 if isinstance(node, nodes.For) else 0)


def _templates_of(automation: AutomationCore) -> list[tuple[list[str | int], str]]:
    """(location in the body, template text) for every templated field of every action."""
    found: list[tuple[list[str | int], str]] = []
    for phase in ("actions", "actions_on_trigger", "actions_on_resolve"):
        for index, action in enumerate(getattr(automation, phase)):
            where: list[str | int] = ["body", phase, index]
            if isinstance(action, SendNotification):
                found += [([*where, "subject"], action.subject), ([*where, "body"], action.body)]
            elif isinstance(action, CallWebhook):
                found.append(([*where, "payload"], action.payload))
            elif isinstance(action, RunDeployment):
                found += [
                    ([*where, "parameters", *path], text) for path, text in _strings_in(action.parameters or {}, [])
                ]
                found += [
                    ([*where, "job_variables", *path], text)
                    for path, text in _strings_in(action.job_variables or {}, [])
                ]
    return found


def _strings_in(value: Any, path: list[str | int]) -> list[tuple[list[str | int], str]]:
    if isinstance(value, str):
        return [(path, value)]
    if isinstance(value, dict):
        return [found for key, item in value.items() for found in _strings_in(item, [*path, key])]
    if isinstance(value, list):
        return [found for index, item in enumerate(value) for found in _strings_in(item, [*path, index])]
    return []


def check_automation_templates(automation: AutomationCore) -> None:
    """Raise ValidationFailed (a 422) naming each templated field of the automation's actions that does not
    compile."""
    problems = []
    for location, text in _templates_of(automation):
        try:
            check_template(text)
        except TemplateInvalid as exc:
            field = next(str(part) for part in reversed(location) if isinstance(part, str))
            line = f" (line {exc.line})" if exc.line else ""
            problems.append(
                {
                    "loc": location,
                    "msg": f"{field!r} is not a valid template{line}: {exc.message}",
                    "type": "value_error",
                }
            )
    if problems:
        raise ValidationFailed("Invalid request received.", problems)
