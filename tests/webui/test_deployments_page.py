"""The Deployments pages in a real browser: the list with schedules in words, a deployment's upcoming runs made by
the scheduler, pause and resume, schedule toggles, and the Run form made from the parameter schema (the API's 422
shown next to the parameter it names; good values land on the new run's page)."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from tests.webui.conftest import UiServer

SCHEMA = {
    "title": "Parameters",
    "type": "object",
    "properties": {
        "count": {"title": "Count", "type": "integer", "minimum": 1, "default": 3, "position": 0},
        "label": {"title": "Label", "type": "string", "position": 1},
        "color": {"allOf": [{"$ref": "#/definitions/Color"}], "default": "red", "position": 2},
        "dry_run": {"title": "Dry Run", "type": "boolean", "default": False, "position": 3},
        "options": {"title": "Options", "type": "object", "default": {"a": 1}, "position": 4},
    },
    "required": ["label"],
    "definitions": {"Color": {"title": "Color", "enum": ["red", "green"], "type": "string"}},
}


@pytest.fixture(scope="module")
def deployment(api: httpx.Client) -> dict[str, Any]:
    flow = api.post("/flows/", json={"name": "ui-deployed-flow"}).json()
    assert api.post("/work_pools/", json={"name": "ui-deploy-pool", "type": "process"}).status_code == 201
    response = api.post(
        "/deployments/",
        json={
            "name": "nightly-etl",
            "flow_id": flow["id"],
            "work_pool_name": "ui-deploy-pool",
            "schedules": [
                {"schedule": {"interval": 60}, "active": True},
                {"schedule": {"cron": "0 9 * * *", "timezone": "America/New_York"}, "active": False},
            ],
            "parameter_openapi_schema": SCHEMA,
            "parameters": {"label": "from-deployment"},
            "tags": ["nightly"],
            "description": "Loads the warehouse",
            "entrypoint": "flows/etl.py:etl",
        },
    )
    assert response.status_code == 201, response.text
    body = response.json()
    # The scheduler inserts its runs within seconds of the deployment's creation.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        runs = api.post("/flow_runs/filter", json={"flow_runs": {"deployment_id": {"any_": [body["id"]]}}}).json()
        if runs:
            break
        time.sleep(0.5)
    else:
        pytest.fail("the scheduler made no runs for the deployment")
    return body


def test_list_shows_the_deployment_with_its_schedules_in_words(
    page: Any, ui_server: UiServer, deployment: dict[str, Any]
) -> None:
    page.goto(ui_server.url + "/deployments")
    row = page.locator(f'tr[data-deployment-id="{deployment["id"]}"]')
    text = row.inner_text()
    assert "nightly-etl" in text and "ui-deployed-flow" in text
    assert "every 1 minute" in text
    assert "cron 0 9 * * * (America/New_York) (inactive)" in text
    assert "Active" in text and "ui-deploy-pool / default" in text and "nightly" in text
    assert row.locator("[data-next-run] a time").count() == 1
    assert row.locator("a", has_text="ui-deployed-flow").get_attribute("href") == f"/flows/{deployment['flow_id']}"

    page.fill('input[name="name"]', "no-such-deployment")
    with page.expect_navigation():
        page.click("form.filters button[type=submit]")
    assert page.locator("tr[data-deployment-id]").count() == 0
    page.fill('input[name="name"]', "DEPLOYED")  # a flow's name matches too, whatever the case
    with page.expect_navigation():
        page.click("form.filters button[type=submit]")
    assert page.locator(f'tr[data-deployment-id="{deployment["id"]}"]').count() == 1

    # The Prefect UI's address, which the Concurrency page links to, is the same page.
    page.goto(ui_server.url + f"/deployments/deployment/{deployment['id']}")
    assert page.url.endswith(f"/deployments/{deployment['id']}")


def test_detail_page_shows_upcoming_runs_and_pauses(
    page: Any, ui_server: UiServer, api: httpx.Client, deployment: dict[str, Any]
) -> None:
    page.goto(ui_server.url + f"/deployments/{deployment['id']}")
    details = page.locator("#deployment-details").inner_text()
    assert "Loads the warehouse" in details and "flows/etl.py:etl" in details and "ui-deploy-pool" in details
    assert page.locator("#upcoming-runs tr[data-run-id]").count() >= 1
    assert "Scheduled" in page.locator("#upcoming-runs").inner_text()
    assert page.locator("#schedules tr").count() == 2

    page.click("#pause-deployment")
    page.locator("#resume-deployment").wait_for()
    assert page.locator("#deployment-state").inner_text() == "Paused"
    assert api.get(f"/deployments/{deployment['id']}").json()["paused"] is True
    assert "paused" in page.locator("#upcoming-runs").inner_text()

    page.click("#resume-deployment")
    page.locator("#pause-deployment").wait_for()
    assert page.locator("#deployment-state").inner_text() == "Active"
    assert api.get(f"/deployments/{deployment['id']}").json()["paused"] is False


def test_schedule_toggle_and_delete(
    page: Any, ui_server: UiServer, api: httpx.Client, deployment: dict[str, Any]
) -> None:
    page.goto(ui_server.url + f"/deployments/{deployment['id']}")
    cron = page.locator("#schedules tr", has_text="cron 0 9")
    schedule_id = cron.get_attribute("data-schedule-id")
    with page.expect_navigation():
        cron.locator("[data-toggle-schedule]").click()
    cron = page.locator(f'#schedules tr[data-schedule-id="{schedule_id}"]')
    assert "Active" in cron.locator("[data-schedule-state]").inner_text()
    schedules = {s["id"]: s for s in api.get(f"/deployments/{deployment['id']}").json()["schedules"]}
    assert schedules[schedule_id]["active"] is True

    cron.locator("[data-delete-schedule]").click()
    assert "Delete the schedule “cron 0 9 * * * (America/New_York)”" in page.locator("#confirm-message").inner_text()
    with page.expect_navigation():
        page.click("#confirm-ok")
    assert page.locator(f'#schedules tr[data-schedule-id="{schedule_id}"]').count() == 0
    assert schedule_id not in [s["id"] for s in api.get(f"/deployments/{deployment['id']}").json()["schedules"]]


def test_run_form_from_the_parameter_schema(
    page: Any, ui_server: UiServer, api: httpx.Client, deployment: dict[str, Any]
) -> None:
    page.goto(ui_server.url + f"/deployments/{deployment['id']}")
    form = page.locator("#run-form")
    count, label = form.locator('[data-param="count"]'), form.locator('[data-param="label"]')
    assert count.input_value() == "3" and count.get_attribute("type") == "number"
    assert label.input_value() == "from-deployment"
    assert "Label *" in form.inner_text()
    assert form.locator('[data-param="color"]').input_value() == "red"
    assert form.locator('select[data-param="color"] option').all_inner_texts()[-2:] == ["red", "green"]
    assert form.locator('[data-param="dry_run"]').get_attribute("type") == "checkbox"
    assert '"a": 1' in form.locator('textarea[data-param="options"]').input_value()

    count.fill("0")
    form.locator("button[type=submit]").click()
    error = form.locator('[data-error-for="count"]')
    page.wait_for_function("document.querySelector('#run-form [data-error-for=count]').textContent !== ''")
    assert "Validation failed for parameter 'count'" in error.inner_text()
    assert "minimum of 1" in error.inner_text()
    assert count.get_attribute("aria-invalid") == "true"
    page.browser_errors.expect("status of 422")

    count.fill("5")
    form.locator('[data-param="color"]').select_option("green")
    form.locator('[data-param="dry_run"]').check()
    form.locator('[data-param="options"]').fill('{"b": [1, 2]}')
    with page.expect_navigation(url="**/runs/flow-run/**"):
        form.locator("button[type=submit]").click()
    run_id = page.url.rstrip("/").rsplit("/", 1)[-1]
    run = api.get(f"/flow_runs/{run_id}").json()
    assert run["deployment_id"] == deployment["id"]
    assert run["parameters"] == {
        "count": 5,
        "label": "from-deployment",
        "color": "green",
        "dry_run": True,
        "options": {"b": [1, 2]},
    }

    # The run is among the deployment's runs (past runs list every run not waiting to start; this one is).
    page.goto(ui_server.url + f"/deployments/{deployment['id']}")
    assert page.locator(f'#upcoming-runs tr[data-run-id="{run_id}"]').count() == 1


def test_user_text_shows_as_text(page: Any, ui_server: UiServer, api: httpx.Client) -> None:
    flow = api.post("/flows/", json={"name": "ui-html-flow"}).json()
    name = 'it\'s "quoted" – dep'
    response = api.post(
        "/deployments/",
        json={
            "name": name,
            "flow_id": flow["id"],
            "description": "<img src=x onerror=alert(1)><b>bold</b>",
            "tags": ["<i>tag</i>"],
            "parameter_openapi_schema": {
                "type": "object",
                "properties": {"note": {"type": "string", "title": "<b>Note</b>", "default": "<script>x</script>"}},
            },
        },
    )
    assert response.status_code == 201, response.text
    deployment_id = response.json()["id"]
    page.goto(ui_server.url + "/deployments")
    row = page.locator(f'tr[data-deployment-id="{deployment_id}"]')
    assert row.get_attribute("data-deployment-name") == name
    assert "<i>tag</i>" in row.inner_text()
    page.goto(ui_server.url + f"/deployments/{deployment_id}")
    assert page.locator("h1").inner_text() == name
    assert "<img src=x onerror=alert(1)><b>bold</b>" in page.locator("#deployment-details").inner_text()
    assert page.locator("#deployment-details img, #deployment-details b, #run-form b").count() == 0
    assert "<b>Note</b>" in page.locator("#run-form").inner_text()
    assert page.locator('#run-form [data-param="note"]').input_value() == "<script>x</script>"
    assert page.locator("#delete-deployment").get_attribute("data-confirm").startswith(f"Delete the deployment {name}")

    page.click("#delete-deployment")
    with page.expect_navigation(url="**/deployments"):
        page.click("#confirm-ok")
    assert page.locator(f'tr[data-deployment-id="{deployment_id}"]').count() == 0
    assert api.get(f"/deployments/{deployment_id}").status_code == 404
