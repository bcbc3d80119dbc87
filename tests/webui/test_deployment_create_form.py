"""The "New deployment" form in a real browser: reached from a flow's page and from the Deployments page, with
parameter fields from the schema of the flow's latest deployment (else a JSON box), posted to /api/deployments/, and
the API's 422 shown next to the field it names. A name the flow already uses is refused before the API would
replace that deployment."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.webui.conftest import ARTIFACTS_DIR, UiServer

SCHEMA = {
    "title": "Parameters",
    "type": "object",
    "properties": {
        "count": {"title": "Count", "type": "integer", "default": 1, "position": 0},
        "label": {"title": "Label", "type": "string", "position": 1},
    },
    "required": ["label"],
}


def _deployments_of(api: httpx.Client, flow_id: str) -> dict[str, dict[str, Any]]:
    found = api.post("/deployments/filter", json={"flows": {"id": {"any_": [flow_id]}}}).json()
    return {deployment["name"]: deployment for deployment in found}


@pytest.mark.both_databases
def test_create_a_deployment_from_the_flow_page_with_the_flows_parameters(
    page: Any, ui_server: UiServer, api: httpx.Client
) -> None:
    flow = api.post("/flows/", json={"name": "ui-create-schema"}).json()
    first = {"name": "first", "flow_id": flow["id"], "parameter_openapi_schema": SCHEMA, "parameters": {"label": "a"}}
    assert api.post("/deployments/", json=first).status_code == 201
    assert api.post("/work_pools/", json={"name": "ui-create-pool", "type": "process"}).status_code == 201

    page.goto(ui_server.url + f"/flows/{flow['id']}")
    with page.expect_navigation():
        page.click("#new-deployment")
    assert page.url.endswith(f"/deployments/new?flow={flow['id']}")
    assert page.title() == "New deployment · Baton"
    assert page.locator("#new-flow option:checked").inner_text() == "ui-create-schema"
    # The fields come from the first deployment's schema, with its defaults.
    assert page.input_value("#param-0") == "1" and page.get_attribute("#param-0", "data-param") == "count"
    assert page.get_attribute("#param-1", "data-param") == "label"
    assert page.locator("#new-parameters").count() == 0

    page.fill("#new-name", "second")
    page.fill("#new-description", "Made in the browser")
    page.fill("#new-tags", "alpha, beta")
    page.fill("#new-pool", "ui-create-pool")
    page.fill("#new-entrypoint", "flows/etl.py:etl")
    page.fill("#new-limit", "3")
    page.select_option("#new-collision", "CANCEL_NEW")
    page.fill("#param-0", "7")
    page.fill("#param-1", "nightly")
    with page.expect_navigation():
        page.click("#create-deployment")
    created = _deployments_of(api, flow["id"])["second"]
    assert page.url.endswith(f"/deployments/{created['id']}")
    assert page.locator("h1").inner_text() == "second"
    assert created["description"] == "Made in the browser" and created["tags"] == ["alpha", "beta"]
    assert created["work_pool_name"] == "ui-create-pool" and created["work_queue_name"] == "default"
    assert created["entrypoint"] == "flows/etl.py:etl" and created["path"] is None
    assert created["concurrency_limit"] == 3
    assert created["concurrency_options"]["collision_strategy"] == "CANCEL_NEW"
    assert created["parameters"] == {"count": 7, "label": "nightly"}
    assert created["parameter_openapi_schema"] == SCHEMA
    assert created["enforce_parameter_schema"] is True
    # The first deployment is untouched.
    assert _deployments_of(api, flow["id"])["first"]["parameters"] == {"label": "a"}


def test_errors_show_next_to_their_fields(page: Any, ui_server: UiServer, api: httpx.Client) -> None:
    flow = api.post("/flows/", json={"name": "ui-create-plain"}).json()
    existing = api.post("/deployments/", json={"name": "taken", "flow_id": flow["id"], "tags": ["keep"]}).json()

    page.goto(ui_server.url + "/deployments")
    with page.expect_navigation():
        page.click("#new-deployment")
    assert page.locator("#create-deployment").count() == 0
    with page.expect_navigation():
        page.select_option("#new-flow", label="ui-create-plain")
    assert page.url.endswith(f"/deployments/new?flow={flow['id']}")
    # No deployment of the flow has a parameter schema: a JSON box.
    assert page.input_value("#new-parameters") == "{}"

    page.fill("#new-name", "taken")
    page.click("#create-deployment")
    page.wait_for_function("document.querySelector('[data-error-for=\"name\"]').textContent.length > 0")
    assert "already has a deployment named taken" in page.inner_text('[data-error-for="name"]')
    assert page.get_attribute("#new-name", "aria-invalid") == "true"
    assert api.get(f"/deployments/{existing['id']}").json()["tags"] == ["keep"]

    page.fill("#new-name", "fresh")
    page.fill("#new-parameters", "{not json")
    page.click("#create-deployment")
    assert "Not valid JSON" in page.inner_text('[data-error-for="parameters"]')

    # The API's own 422s, under the fields they name.
    page.fill("#new-parameters", '{"batch": 2}')
    page.fill("#new-limit", "0")
    page.click("#create-deployment")
    page.wait_for_function("document.querySelector('[data-error-for=\"concurrency_limit\"]').textContent.length > 0")
    assert "greater than 0" in page.inner_text('[data-error-for="concurrency_limit"]')
    assert page.get_attribute("#new-limit", "aria-invalid") == "true"
    page.fill("#new-limit", "")
    page.fill("#new-parameters", '["not", "an", "object"]')
    page.click("#create-deployment")
    page.wait_for_function("document.querySelector('[data-error-for=\"parameters\"]').textContent.length > 0")
    assert "dictionary" in page.inner_text('[data-error-for="parameters"]')
    (ARTIFACTS_DIR / "screenshots").mkdir(parents=True, exist_ok=True)
    page.screenshot(
        path=str(ARTIFACTS_DIR / "screenshots" / "new_deployment_form_with_an_api_error.png"), full_page=True
    )
    assert "fresh" not in _deployments_of(api, flow["id"])
    page.browser_errors.expect("status of 422")

    page.fill("#new-parameters", '{"batch": 2}')
    # An unknown pool is a 404 from the API, shown under the pool.
    page.fill("#new-pool", "ui-no-such-pool")
    page.click("#create-deployment")
    page.wait_for_function("document.querySelector('[data-error-for=\"work_pool_name\"]').textContent.length > 0")
    assert "ui-no-such-pool" in page.inner_text('[data-error-for="work_pool_name"]')
    assert page.get_attribute("#new-pool", "aria-invalid") == "true"
    page.browser_errors.expect("status of 404")
    page.fill("#new-pool", "")
    with page.expect_navigation():
        page.click("#create-deployment")
    fresh = _deployments_of(api, flow["id"])["fresh"]
    assert fresh["parameters"] == {"batch": 2} and fresh["parameter_openapi_schema"] == {}
    assert fresh["work_pool_name"] is None and fresh["concurrency_limit"] is None


def test_the_form_for_an_unknown_flow_is_not_found(page: Any, ui_server: UiServer) -> None:
    response = page.goto(ui_server.url + "/deployments/new?flow=00000000-0000-0000-0000-000000000000")
    assert response.status == 404
    page.browser_errors.expect("status of 404")
