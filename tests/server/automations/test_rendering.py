"""Rendering action templates: the context Prefect's server gives them (automation, event, labels, firing, and the
objects the triggering event involves, read from the database), its URL filters, parameters hydrated as Prefect does,
and failures reported with the template."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import httpx
import pytest

from baton.server.automations.rendering import Renderer, TemplateRenderFailed, ui_filters
from baton.server.automations.templates import FILTER_NAMES
from baton.server.database.engine import Database

UI = "http://baton.example.com"
OCCURRED = dt.datetime(2026, 3, 1, 7, 30, tzinfo=dt.UTC)


async def _objects(client: httpx.AsyncClient) -> dict[str, Any]:
    """A flow, a deployment of it in a work pool, and a Running run of the deployment."""
    flow = (await client.post("/flows/", json={"name": "etl"})).json()
    pool = (await client.post("/work_pools/", json={"name": "night-pool", "type": "process"})).json()
    deployment = (
        await client.post(
            "/deployments/", json={"name": "nightly", "flow_id": flow["id"], "work_pool_name": "night-pool"}
        )
    ).json()
    run = (await client.post(f"/deployments/{deployment['id']}/create_flow_run", json={"name": "brave-otter"})).json()
    running = await client.post(f"/flow_runs/{run['id']}/set_state", json={"state": {"type": "PENDING"}})
    assert running.json()["status"] == "ACCEPT"
    return {"flow": flow, "pool": pool, "deployment": deployment, "run": run}


def _failed_event(objects: dict[str, Any]) -> dict[str, Any]:
    """The `prefect.flow-run.Failed` event of the run, as Baton records it."""
    run, flow, deployment, pool = objects["run"], objects["flow"], objects["deployment"], objects["pool"]
    return {
        "id": str(uuid.uuid4()),
        "occurred": OCCURRED.isoformat(),
        "event": "prefect.flow-run.Failed",
        "resource": {
            "prefect.resource.id": f"prefect.flow-run.{run['id']}",
            "prefect.resource.name": run["name"],
            "prefect.state-message": "disk full",
            "prefect.state-name": "Failed",
            "prefect.state-timestamp": OCCURRED.isoformat(),
            "prefect.state-type": "FAILED",
        },
        "related": [
            {"prefect.resource.id": f"prefect.flow.{flow['id']}", "prefect.resource.role": "flow"},
            {"prefect.resource.id": f"prefect.deployment.{deployment['id']}", "prefect.resource.role": "deployment"},
            {
                "prefect.resource.id": f"prefect.work-queue.{pool['default_queue_id']}",
                "prefect.resource.role": "work-queue",
            },
            {
                "prefect.resource.id": f"prefect.work-pool.{pool['id']}",
                "prefect.resource.name": pool["name"],
                "prefect.resource.role": "work-pool",
            },
        ],
        "payload": {"attempts": 3, "tables": ["a", "b"]},
    }


def _action_run(event: dict[str, Any] | None, labels: dict[str, str] | None = None) -> dict[str, Any]:
    """An action run as `claim_action_run` returns it."""
    return {
        "id": uuid.uuid4(),
        "firing_id": uuid.uuid4(),
        "firing_trigger_state": "Triggered",
        "firing_occurred": OCCURRED,
        "firing_triggering_labels": labels or {},
        "firing_triggering_event": event,
        "firing_triggering_value": None,
    }


AUTOMATION = {"id": uuid.UUID("5b6c8a4e-8f0e-4a53-9d7c-2f5f0a1e9c11"), "name": "page on failure", "trigger": {}}


async def _render(database: Database, renderer: Renderer, *templates: str) -> list[str]:
    async with database.read() as connection:
        return await renderer.render(connection, list(templates))


async def test_the_context_has_the_objects_of_the_triggering_event(
    client: httpx.AsyncClient, database: Database
) -> None:
    objects = await _objects(client)
    run, flow, deployment = objects["run"], objects["flow"], objects["deployment"]
    event = _failed_event(objects)
    renderer = Renderer(_action_run(event, {"prefect.resource.id": f"prefect.flow-run.{run['id']}"}), AUTOMATION, UI)

    (text,) = await _render(
        database,
        renderer,
        "{{ flow_run.name }} of {{ flow.name }}/{{ deployment.name }} is {{ flow_run.state.name }} "
        "({{ flow_run.state.message }}) in {{ work_pool.name }}/{{ work_queue.name }}; "
        "{{ event.event }} on {{ event.resource.id }} after {{ event.payload.attempts }} attempts; "
        "labels {{ labels.prefect.resource.id }}; automation {{ automation.name }}; "
        "firing {{ firing.trigger_states[0] }}",
    )
    assert text == (
        f"brave-otter of etl/nightly is Failed (disk full) in night-pool/default; prefect.flow-run.Failed on "
        f"prefect.flow-run.{run['id']} after 3 attempts; labels prefect.flow-run.{run['id']}; automation "
        "page on failure; firing Triggered"
    )
    # The run is Pending in the database; the template describes the state its event announced.
    (state_type, deployment_id, flow_id) = await _render(
        database, renderer, "{{ flow_run.state.type }}", "{{ flow_run.deployment_id }}", "{{ flow.id }}"
    )
    assert (state_type, deployment_id, flow_id) == ("FAILED", deployment["id"], flow["id"])


async def test_the_url_filters_link_to_baton_pages(client: httpx.AsyncClient, database: Database) -> None:
    objects = await _objects(client)
    run, flow, deployment = objects["run"], objects["flow"], objects["deployment"]
    renderer = Renderer(_action_run(_failed_event(objects)), AUTOMATION, UI + "/")

    rendered = await _render(
        database,
        renderer,
        "{{ flow_run | ui_url }}",
        "{{ flow | ui_url }}",
        "{{ deployment | ui_url }}",
        "{{ work_pool | ui_url }}",
        "{{ work_queue | ui_url }}",
        "{{ automation | ui_url }}",
        "{{ event.resource | ui_url }}",
        "{{ flow_run | ui_resource_events_url }}",
        "{{ event.related[1] | ui_resource_events_url }}",
        "{{ event.resource_in_role['work-pool'] | ui_url }}",
        "{{ (flow_run | ui_url) | flow_run_id }}",
        "{{ 'no run here' | flow_run_id }}",
    )
    assert rendered == [
        f"{UI}/runs/flow-run/{run['id']}",
        f"{UI}/flows/{flow['id']}",
        f"{UI}/deployments/{deployment['id']}",
        f"{UI}/work-pools/night-pool",
        f"{UI}/work-pools/night-pool",
        f"{UI}/automations/{AUTOMATION['id']}",
        f"{UI}/runs/flow-run/{run['id']}",
        f"{UI}/events?resource=prefect.flow-run.{run['id']}",
        f"{UI}/events?resource=prefect.deployment.{deployment['id']}",
        f"{UI}/work-pools/night-pool",
        run["id"],
        "None",
    ]
    assert set(ui_filters(UI)) == set(FILTER_NAMES)


async def test_parameters_keep_the_type_of_a_single_expression(client: httpx.AsyncClient, database: Database) -> None:
    objects = await _objects(client)
    renderer = Renderer(_action_run(_failed_event(objects)), AUTOMATION, UI)
    parameters = {
        "attempts": "{{ event.payload.attempts }}",
        "tables": "{{ event.payload.tables }}",
        "greeting": "Run {{ flow_run.name }} failed",
        "plain": "no template {here}",
        "number": 7,
        "nested": {"items": ["{{ 40 + 2 }}", "x{{ 1 }}"]},
        "from_json": {"__prefect_kind": "json", "value": '{"a": [1, 2]}'},
        "jinja": {"__prefect_kind": "jinja", "template": "{{ flow.name | upper }}"},
        "nothing": {"__prefect_kind": "none"},
    }
    async with database.read() as connection:
        rendered = await renderer.render_value(connection, parameters)
    assert rendered == {
        "attempts": 3,
        "tables": ["a", "b"],
        "greeting": "Run brave-otter failed",
        "plain": "no template {here}",
        "number": 7,
        "nested": {"items": [42, "x1"]},
        "from_json": {"a": [1, 2]},
        "jinja": "ETL",
        "nothing": None,
    }


async def test_without_an_event_the_objects_are_none(database: Database) -> None:
    renderer = Renderer(_action_run(None), AUTOMATION, UI)
    (text,) = await _render(
        database, renderer, "{{ event }} {{ flow_run }} {{ flow_run | ui_url }} {{ events | length }}"
    )
    assert text == "None None None 0"


@pytest.mark.parametrize(
    ("template", "error"),
    [
        ("{{ event.payload.missing.deeper }}", "UndefinedError"),
        ("{{ ''.__class__.__mro__ }}", "SecurityError"),
        ("{{ flow_run.name | no_such_filter }}", "TemplateAssertionError"),
    ],
    ids=["undefined", "sandbox", "unknown-filter"],
)
async def test_a_template_that_fails_names_its_error(database: Database, template: str, error: str) -> None:
    renderer = Renderer(_action_run({"id": str(uuid.uuid4()), "event": "x", "payload": {}}), AUTOMATION, UI)
    with pytest.raises(TemplateRenderFailed) as raised:
        await _render(database, renderer, template)
    assert raised.value.template == template
    assert type(raised.value.error).__name__ == error
    assert str(raised.value).startswith("Template rendering failed: ")


async def test_variables_reach_templates_and_parameters(client: httpx.AsyncClient, database: Database) -> None:
    for name, value in (("bucket", "s3://nightly"), ("limits", {"rows": 500})):
        assert (await client.post("/variables/", json={"name": name, "value": value})).status_code == 201
    renderer = Renderer(_action_run(None), AUTOMATION, UI)

    (text,) = await _render(database, renderer, "{{ variables.bucket }} {{ variables.limits.rows }}")
    assert text == "s3://nightly 500"
    async with database.read() as connection:
        rendered = await renderer.render_value(
            connection,
            {
                "where": {"__prefect_kind": "workspace_variable", "variable_name": "limits"},
                "n": "{{ variables.limits }}",
            },
        )
        assert rendered == {"where": {"rows": 500}, "n": {"rows": 500}}
        with pytest.raises(TemplateRenderFailed, match="Variable 'gone' was not found"):
            await renderer.render_value(connection, {"__prefect_kind": "workspace_variable", "variable_name": "gone"})
