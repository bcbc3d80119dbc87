"""Rendering the Jinja templates of actions with the context Prefect's server gives them.

The context: `automation`, `event` (the triggering event, or None), `events`, `labels` (the triggering labels, also
reachable by attribute: `labels.prefect.resource.id`), `firing`, `firings`, `variables` (name -> value), and the
objects the triggering event is about (`flow`, `flow_run`, `deployment`, `task_run`, `work_pool`, `work_queue`: the
first resource of that kind in the event, read from the database as the API answers it); objects and variables are
read only when a template names them. Objects are JSON-like dicts with the API's field names (`flow_run.state.name`);
a resource's labels are also reachable as `.id`, `.name` and `.role`, as on Prefect's `Resource`. A run's state is
the one its event announced, as Prefect does, so a template describes the change that fired even when the run has
moved on since.

Filters: `ui_url` (the Baton UI page of an object or resource), `ui_resource_events_url` (the Events page filtered on
it) and `flow_run_id` (the first flow-run id in a text)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import orjson
from sqlalchemy.ext.asyncio import AsyncConnection

from baton.server.automations.templates import make_environment
from baton.server.models.deployments.deployments import read_deployment
from baton.server.models.runs.flow_runs import read_flow_run
from baton.server.models.runs.flows import read_flow
from baton.server.models.runs.task_runs import read_task_run
from baton.server.models.variables import filter_variables, read_variable_by_name
from baton.server.models.work_pools.work_pools import pool_responses, read_work_pool

if TYPE_CHECKING:
    from jinja2.sandbox import ImmutableSandboxedEnvironment
from baton.server.models.work_pools.work_queues import queue_responses, read_work_queue
from baton.server.schemas.events import RESOURCE_ID
from baton.server.schemas.responses import flow_run_response, task_run_response
from baton.server.schemas.variables import VariableFilterRequest

# The names a template may use for objects resolved from the triggering event, and their resource kinds.
OBJECT_KINDS = {
    "flow": "prefect.flow",
    "flow_run": "prefect.flow-run",
    "deployment": "prefect.deployment",
    "task_run": "prefect.task-run",
    "work_pool": "prefect.work-pool",
    "work_queue": "prefect.work-queue",
}
# Variables a template sees as `variables` (Prefect gives templates the workspace's variables).
MAX_VARIABLES = 1000
_STATE_LABELS = ("prefect.state-message", "prefect.state-name", "prefect.state-timestamp", "prefect.state-type")
_FLOW_RUN_ID = re.compile(r"flow-run/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})")


class TemplateRenderFailed(Exception):
    """A template raised while rendering (an undefined call, a sandbox refusal, a filter's error)."""

    def __init__(self, template: str, error: Exception) -> None:
        super().__init__(f"Template rendering failed: {error!r}")
        self.template = template
        self.error = error


class Resource(dict[str, str]):
    """An event's resource (its labels), with Prefect's `id`, `name` and `role` shortcuts."""

    @property
    def id(self) -> str:
        return self.get(RESOURCE_ID, "")

    @property
    def name(self) -> str | None:
        return self.get("prefect.resource.name")

    @property
    def role(self) -> str | None:
        return self.get("prefect.resource.role")


class TemplateObject(dict[str, Any]):
    """An object of the API (a flow run, a deployment, ...) in the context; it remembers its resource kind for the
    URL filters. Underscored attributes are out of a sandboxed template's reach."""

    def __init__(self, kind: str, body: dict[str, Any]) -> None:
        super().__init__(body)
        self._baton_kind = kind


class LabelDiver:
    """Labels as a tree that templates reach by attribute (`labels.prefect.resource.id`) or by key
    (`labels['prefect.resource.id']`); a node prints as the value of the label ending there."""

    def __init__(self, labels: dict[str, str], value: str = "") -> None:
        self._labels = dict(labels)
        self._value = value

    def __getattr__(self, name: str) -> LabelDiver:
        if name.startswith("_"):
            raise AttributeError(name)
        prefix = f"{name}."
        below = {key[len(prefix) :]: value for key, value in self._labels.items() if key.startswith(prefix)}
        if not below and name not in self._labels:
            raise AttributeError(name)
        return LabelDiver(below, self._labels.get(name, ""))

    def __getitem__(self, key: str) -> str:
        return self._labels[key]

    def __str__(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return repr(self._value)

    def __iter__(self) -> Any:
        return iter(self._labels)

    def items(self) -> Any:
        return self._labels.items()

    def __eq__(self, other: object) -> bool:
        return self._value == (other._value if isinstance(other, LabelDiver) else other)

    def __hash__(self) -> int:
        return hash(self._value)


def json_like(value: Any) -> Any:
    """`value` as JSON would carry it: UUIDs (the driver's too) and datetimes become text, as the API writes them."""
    return orjson.loads(orjson.dumps(value, default=str, option=orjson.OPT_NON_STR_KEYS))


def template_event(event: dict[str, Any] | None) -> dict[str, Any] | None:
    """The triggering event for templates: `resource` and each of `related` are Resources, and Prefect's
    `involved_resources` and `resource_in_role` (role -> the first related resource in it) are there too."""
    if event is None:
        return None
    shaped = dict(event)
    shaped["resource"] = Resource(event.get("resource") or {})
    shaped["related"] = [Resource(each) for each in event.get("related") or []]
    shaped["involved_resources"] = [shaped["resource"], *shaped["related"]]
    in_role: dict[str, Resource] = {}
    for each in shaped["related"]:
        if each.role:
            in_role.setdefault(each.role, each)
    shaped["resource_in_role"] = in_role
    return shaped


def involved_resources(event: dict[str, Any]) -> list[dict[str, str]]:
    """The event's resource, then its related resources, as Prefect's `Event.involved_resources`."""
    return [event.get("resource") or {}, *(event.get("related") or [])]


def first_resource_of_kind(event: dict[str, Any] | None, kind: str) -> dict[str, str] | None:
    """The first involved resource whose id is `<kind>.<something>`."""
    if event is None:
        return None
    for resource in involved_resources(event):
        found_kind, _, _ = str(resource.get(RESOURCE_ID, "")).rpartition(".")
        if found_kind == kind:
            return resource
    return None


def id_from_resource_id(resource_id: str | None, kind: str) -> uuid.UUID | None:
    """The UUID in `<kind>.<uuid>`; None for another kind or an id that is not a UUID."""
    if not resource_id:
        return None
    found_kind, _, tail = resource_id.rpartition(".")
    if found_kind != kind:
        return None
    try:
        return uuid.UUID(tail)
    except ValueError:
        return None


def id_of_first_resource_of_kind(event: dict[str, Any] | None, kind: str) -> uuid.UUID | None:
    resource = first_resource_of_kind(event, kind)
    return id_from_resource_id(resource.get(RESOURCE_ID), kind) if resource else None


def names_used(templates: Iterable[str], environment: ImmutableSandboxedEnvironment) -> set[str]:
    """The top-level names the templates read (templates that do not parse read nothing: rendering reports them)."""
    from jinja2 import nodes
    from jinja2.exceptions import TemplateError

    found: set[str] = set()
    for template in templates:
        try:
            tree = environment.parse(template)
        except TemplateError:
            continue
        found.update(node.name for node in tree.find_all(nodes.Name) if node.ctx == "load")
    return found


async def _read_object(connection: AsyncConnection, name: str, object_id: uuid.UUID) -> dict[str, Any] | None:
    if name == "flow":
        return await read_flow(connection, object_id)
    if name == "flow_run":
        row = await read_flow_run(connection, object_id)
        return flow_run_response(row) if row else None
    if name == "task_run":
        row = await read_task_run(connection, object_id)
        return task_run_response(row) if row else None
    if name == "deployment":
        return await read_deployment(connection, object_id)
    if name == "work_pool":
        row = await read_work_pool(connection, object_id)
        return (await pool_responses(connection, [row]))[0] if row else None
    row = await read_work_queue(connection, object_id)
    return (await queue_responses(connection, [row]))[0] if row else None


def _state_from_event(resource: dict[str, str]) -> dict[str, Any] | None:
    if not all(label in resource for label in _STATE_LABELS):
        return None
    return {
        "type": resource["prefect.state-type"],
        "name": resource["prefect.state-name"],
        "message": resource["prefect.state-message"],
        "timestamp": resource["prefect.state-timestamp"],
    }


async def resolve_objects(
    connection: AsyncConnection, event: dict[str, Any] | None, names: Iterable[str]
) -> dict[str, TemplateObject | None]:
    """The objects named (among OBJECT_KINDS) that the event involves, read from the database; None for one the
    event does not involve or that no longer exists."""
    resolved: dict[str, TemplateObject | None] = {}
    for name in names:
        kind = OBJECT_KINDS.get(name)
        if kind is None:
            continue
        resource = first_resource_of_kind(event, kind)
        object_id = id_from_resource_id(resource.get(RESOURCE_ID), kind) if resource else None
        body = await _read_object(connection, name, object_id) if object_id else None
        if body is None or resource is None:
            resolved[name] = None
            continue
        body = json_like(body)
        if name in ("flow_run", "task_run"):
            announced = _state_from_event(resource)
            if announced is not None:
                body["state"] = {**(body.get("state") or {}), **announced}
        resolved[name] = TemplateObject(kind, body)
    return resolved


def firing_context(action_run: dict[str, Any], automation: dict[str, Any]) -> dict[str, Any]:
    """The `firing` of the context, in the shape of Prefect's Firing."""
    return {
        "id": str(action_run["firing_id"]),
        "trigger": json_like(automation.get("trigger")),
        "trigger_states": [action_run["firing_trigger_state"]],
        "triggered": action_run["firing_occurred"].isoformat(),
        "triggering_labels": dict(action_run.get("firing_triggering_labels") or {}),
        "triggering_firings": [],
        "triggering_event": action_run.get("firing_triggering_event"),
        "triggering_value": action_run.get("firing_triggering_value"),
    }


def ui_filters(ui_url: str) -> dict[str, Callable[..., Any]]:
    """The filters templates may use, linking to the Baton UI at `ui_url`."""
    base = ui_url.rstrip("/")

    def page_of(kind: str, body: dict[str, Any]) -> str | None:
        object_id = body.get("id")
        if kind == "prefect.flow-run":
            return f"runs/flow-run/{object_id}"
        if kind == "prefect.flow":
            return f"flows/{object_id}"
        if kind == "prefect.deployment":
            return f"deployments/{object_id}"
        if kind == "prefect.task-run":
            return f"task-runs/{object_id}"
        if kind == "prefect.automation":
            return f"automations/{object_id}"
        if kind == "prefect.work-pool" and body.get("name"):
            return f"work-pools/{body['name']}"
        if kind == "prefect.work-queue" and body.get("work_pool_name"):
            # Baton shows a work queue on its pool's page.
            return f"work-pools/{body['work_pool_name']}"
        return None

    def kind_and_body(obj: Any) -> tuple[str, dict[str, Any]] | None:
        if isinstance(obj, TemplateObject):
            return obj._baton_kind, obj
        if isinstance(obj, dict) and RESOURCE_ID in obj:
            kind, _, object_id = str(obj[RESOURCE_ID]).rpartition(".")
            return kind, {"id": object_id, "name": obj.get("prefect.resource.name")}
        return None

    def ui_url_filter(obj: Any) -> str | None:
        found = kind_and_body(obj)
        path = page_of(*found) if found else None
        return f"{base}/{path}" if path else None

    def ui_resource_events_url(obj: Any) -> str | None:
        found = kind_and_body(obj)
        if found is None or not found[1].get("id"):
            return None
        kind, body = found
        resource_id = f"{kind}.{body['id']}"
        return f"{base}/events?resource={quote(resource_id, safe='')}"

    return {"ui_url": ui_url_filter, "ui_resource_events_url": ui_resource_events_url, "flow_run_id": flow_run_id}


def flow_run_id(text: str | None) -> str | None:
    """The first flow-run id in a text such as a UI link, or None."""
    if not text:
        return None
    match = _FLOW_RUN_ID.search(str(text))
    return match.group(1) if match else None


def maybe_template(text: str) -> bool:
    """Whether `text` holds Jinja syntax at all; plain text is used as it is, as Prefect does."""
    return "{{" in text or "{%" in text


class Renderer:
    """Renders the templates of one action run: builds the context once (objects loaded on first need)."""

    def __init__(self, action_run: dict[str, Any], automation: dict[str, Any], ui_url: str) -> None:
        automation_body = TemplateObject("prefect.automation", json_like(automation))
        event = template_event(action_run.get("firing_triggering_event"))
        firing = firing_context(action_run, automation)
        self.event = action_run.get("firing_triggering_event")
        self.environment = make_environment(ui_filters(ui_url))
        self.context: dict[str, Any] = {
            "automation": automation_body,
            "event": event,
            "events": [event] if event else [],
            "labels": LabelDiver(firing["triggering_labels"]),
            "firing": firing,
            "firings": [firing],
        }

    async def render(self, connection: AsyncConnection, templates: list[str]) -> list[str]:
        """Each template rendered; TemplateRenderFailed for the first that fails."""
        wanted = names_used([each for each in templates if maybe_template(each)], self.environment)
        missing = [name for name in wanted if name in OBJECT_KINDS and name not in self.context]
        if missing:
            self.context.update(await resolve_objects(connection, self.event, missing))
        if "variables" in wanted and "variables" not in self.context:
            rows = await filter_variables(connection, VariableFilterRequest(), MAX_VARIABLES, 0)
            self.context["variables"] = {row["name"]: json_like(row["value"]) for row in rows}
        rendered = []
        for template in templates:
            if not maybe_template(template):
                rendered.append(template)
                continue
            try:
                rendered.append(await self.environment.from_string(template).render_async(self.context))
            except Exception as exc:  # a user's template may raise anything; the action fails with it
                raise TemplateRenderFailed(template, exc) from exc
        return rendered

    async def render_value(self, connection: AsyncConnection, value: Any) -> Any:
        """A parameters or job-variables value with its templates rendered, as Prefect hydrates them: a text that
        is one `{{ expression }}` keeps the expression's type, other texts render to text, and the `__prefect_kind`
        placeholders `jinja`, `json` and `none` are honoured."""
        if isinstance(value, str):
            if not maybe_template(value):
                return value
            stripped = value.strip()
            if stripped.startswith("{{") and stripped.endswith("}}") and stripped.count("{{") == 1:
                (text,) = await self.render(connection, ["{{ (" + stripped[2:-2].strip() + ") | tojson }}"])
                return orjson.loads(text)
            (text,) = await self.render(connection, [value])
            return text
        if isinstance(value, list):
            return [await self.render_value(connection, item) for item in value]
        if not isinstance(value, dict):
            return value
        kind = value.get("__prefect_kind")
        if kind == "jinja":
            (text,) = await self.render(connection, [str(value.get("template", ""))])
            return text
        if kind == "json":
            inner = value.get("value")
            inner = await self.render_value(connection, inner) if isinstance(inner, dict) else inner
            if isinstance(inner, str):
                try:
                    return orjson.loads(inner)
                except orjson.JSONDecodeError as exc:
                    raise TemplateRenderFailed(inner, exc) from exc
            return inner
        if kind == "none":
            return None
        if kind == "workspace_variable":
            name = str(value.get("variable_name", ""))
            variable = await read_variable_by_name(connection, name)
            if variable is None:
                raise TemplateRenderFailed(name, LookupError(f"Variable {name!r} was not found"))
            return variable["value"]
        return {key: await self.render_value(connection, item) for key, item in value.items()}
