"""A deployment's schedule form in a real browser: a cron schedule with a time zone, its next five run times
previewed by the server, added through the API; a bad cron answered with the API's reason next to the field; a
schedule edited, paused, resumed and deleted. The preview route itself is checked over HTTP."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.webui.conftest import UiServer


@pytest.fixture(scope="module")
def deployment(api: httpx.Client) -> dict[str, Any]:
    flow = api.post("/flows/", json={"name": "ui-schedule-form-flow"}).json()
    response = api.post("/deployments/", json={"name": "schedule-form", "flow_id": flow["id"]})
    assert response.status_code == 201, response.text
    return response.json()


def _schedules(api: httpx.Client, deployment_id: str) -> list[dict[str, Any]]:
    return api.get(f"/deployments/{deployment_id}/schedules").json()


def test_preview_route_lists_the_next_times_and_refuses_a_bad_schedule(api: httpx.Client) -> None:
    schedule = {"cron": "30 6 * * 1", "timezone": "Asia/Tokyo"}
    response = api.get("/ui/schedules/preview", params={"schedule": json.dumps(schedule), "count": 3})
    assert response.status_code == 200, response.text
    times = response.json()["times"]
    assert len(times) == 3
    # 06:30 on Mondays in Tokyo is 21:30 UTC on Sundays.
    assert all(time.endswith("21:30:00+00:00") for time in times)

    rrule = {"rrule": "FREQ=DAILY;BYHOUR=9;BYMINUTE=0", "timezone": "UTC"}
    daily = api.get("/ui/schedules/preview", params={"schedule": json.dumps(rrule)}).json()["times"]
    assert len(daily) == 5 and all(time.endswith("09:00:00+00:00") for time in daily)
    interval = {"interval": 86400, "anchor_date": "2026-01-01T08:00:00", "timezone": "America/New_York"}
    days = api.get("/ui/schedules/preview", params={"schedule": json.dumps(interval)}).json()["times"]
    assert len(days) == 5 and all(time[11:16] in ("13:00", "12:00") for time in days)

    bad = api.get("/ui/schedules/preview", params={"schedule": json.dumps({"cron": "61 * * * *"})})
    assert bad.status_code == 422
    assert any("Invalid cron string" in detail["msg"] for detail in bad.json()["exception_detail"])
    zone = api.get("/ui/schedules/preview", params={"schedule": json.dumps({"interval": 60, "timezone": "Mars/Base"})})
    assert zone.status_code == 422 and "Invalid timezone" in zone.text


def test_add_a_cron_schedule_with_a_preview_then_pause_resume_and_delete_it(
    page: Any, ui_server: UiServer, api: httpx.Client, deployment: dict[str, Any]
) -> None:
    page.goto(ui_server.url + f"/deployments/{deployment['id']}")
    page.click("#add-schedule")
    page.select_option("#schedule-kind", "cron")
    page.fill("#schedule-cron", "15 7 * * *")
    page.fill("#schedule-timezone", "Europe/Paris")
    # The server computes the times from 07:15 Paris time (06:15 or 05:15 UTC); the page shows them in the
    # viewer's zone.
    page.wait_for_function(
        "Array.from(document.querySelectorAll('#schedule-preview li time')).filter(function (t) {"
        " return /T0[56]:15:00\\+00:00$/.test(t.dateTime); }).length === 5"
    )
    assert page.locator("#schedule-preview li").count() == 5
    shown = page.locator("#schedule-preview li time").first.inner_text()
    # The browser runs in Europe/Berlin (the page fixture), on Paris's wall clock.
    assert "7:15:00" in shown and ("GMT+1" in shown or "GMT+2" in shown), shown
    with page.expect_navigation():
        page.click("#save-schedule")

    row = page.locator("#schedules tr", has_text="cron 15 7 * * * (Europe/Paris)")
    assert "Active" in row.locator("[data-schedule-state]").inner_text()
    schedule_id = row.get_attribute("data-schedule-id")
    saved = {s["id"]: s for s in _schedules(api, deployment["id"])}[schedule_id]
    assert saved["schedule"]["cron"] == "15 7 * * *" and saved["schedule"]["timezone"] == "Europe/Paris"
    assert saved["active"] is True

    # Pause, then resume.
    with page.expect_navigation():
        row.locator("[data-toggle-schedule]").click()
    row = page.locator(f'#schedules tr[data-schedule-id="{schedule_id}"]')
    assert "Inactive" in row.locator("[data-schedule-state]").inner_text()
    assert {s["id"]: s for s in _schedules(api, deployment["id"])}[schedule_id]["active"] is False
    with page.expect_navigation():
        row.locator("[data-toggle-schedule]").click()
    row = page.locator(f'#schedules tr[data-schedule-id="{schedule_id}"]')
    assert "Active" in row.locator("[data-schedule-state]").inner_text()
    assert {s["id"]: s for s in _schedules(api, deployment["id"])}[schedule_id]["active"] is True

    # Edit it into an hourly interval.
    row.locator("[data-edit-schedule]").click()
    assert page.input_value("#schedule-cron") == "15 7 * * *"
    page.select_option("#schedule-kind", "interval")
    page.fill("#schedule-interval", "3600")
    # Hourly from now: five times an hour apart.
    page.wait_for_function(
        "(function () { const t = Array.from(document.querySelectorAll('#schedule-preview li time'),"
        " function (e) { return Date.parse(e.dateTime); });"
        " return t.length === 5 && t[4] - t[0] === 4 * 3600 * 1000; })()"
    )
    with page.expect_navigation():
        page.click("#save-schedule")
    row = page.locator(f'#schedules tr[data-schedule-id="{schedule_id}"]')
    assert "every 1 hour (Europe/Paris)" in row.inner_text()
    saved = {s["id"]: s for s in _schedules(api, deployment["id"])}[schedule_id]
    assert saved["schedule"]["interval"] == 3600

    # Delete.
    row.locator("[data-delete-schedule]").click()
    with page.expect_navigation():
        page.click("#confirm-ok")
    assert page.locator(f'#schedules tr[data-schedule-id="{schedule_id}"]').count() == 0
    assert schedule_id not in [s["id"] for s in _schedules(api, deployment["id"])]


def test_an_invalid_cron_shows_the_api_error_next_to_the_field(
    page: Any, ui_server: UiServer, api: httpx.Client, deployment: dict[str, Any]
) -> None:
    before = len(_schedules(api, deployment["id"]))
    page.goto(ui_server.url + f"/deployments/{deployment['id']}")
    page.click("#add-schedule")
    page.select_option("#schedule-kind", "cron")
    page.fill("#schedule-cron", "not a cron")
    page.wait_for_function(
        "document.querySelector('[data-error-for=\"cron\"]').textContent.includes('Invalid cron string')"
    )
    assert page.locator("#schedule-preview li").count() == 0
    page.click("#save-schedule")
    page.wait_for_function("document.getElementById('flash').textContent.includes('Invalid cron string')")
    assert 'Invalid cron string: "not a cron"' in page.locator('[data-error-for="cron"]').inner_text()
    assert page.get_attribute("#schedule-cron", "aria-invalid") == "true"
    assert len(_schedules(api, deployment["id"])) == before
    # The preview asks again when the field loses focus (on the Save click); its 422 may land after the save's.
    page.wait_for_load_state("networkidle")
    page.browser_errors.expect("status of 422")


SCHEMA = {
    "title": "Parameters",
    "type": "object",
    "properties": {"count": {"title": "Count", "type": "integer"}, "label": {"title": "Label", "type": "string"}},
    "required": ["label"],
}


def test_edit_the_deployment_with_its_parameters_checked_by_the_api(
    page: Any, ui_server: UiServer, api: httpx.Client
) -> None:
    flow = api.post("/flows/", json={"name": "ui-edit-form-flow"}).json()
    assert api.post("/work_pools/", json={"name": "ui-edit-pool", "type": "process"}).status_code == 201
    created = api.post(
        "/deployments/",
        json={"name": "edit-me", "flow_id": flow["id"], "parameter_openapi_schema": SCHEMA, "parameters": {"count": 1}},
    )
    assert created.status_code == 201, created.text
    deployment_id = created.json()["id"]
    page.goto(ui_server.url + f"/deployments/{deployment_id}")
    page.click("#edit-deployment")

    page.fill("#edit-parameters", '{"count": "many"}')
    page.click("#save-deployment")
    page.wait_for_function(
        "document.querySelector('#deployment-form [data-error-for=\"parameters\"]').textContent.includes('count')"
    )
    assert (
        "Validation failed for parameter 'count'"
        in page.locator('#deployment-form [data-error-for="parameters"]').inner_text()
    )
    assert api.get(f"/deployments/{deployment_id}").json()["parameters"] == {"count": 1}

    page.fill("#edit-parameters", "{not json")
    page.click("#save-deployment")
    assert "Not valid JSON" in page.locator('#deployment-form [data-error-for="parameters"]').inner_text()

    page.fill("#edit-description", "Edited in the browser")
    page.fill("#edit-tags", "alpha, beta")
    page.fill("#edit-pool", "ui-edit-pool")
    page.fill("#edit-limit", "2")
    page.select_option("#edit-collision", "CANCEL_NEW")
    page.fill("#edit-parameters", '{"count": 5}')
    with page.expect_navigation():
        page.click("#save-deployment")
    details = page.locator("#deployment-details").inner_text()
    assert "Edited in the browser" in details and "ui-edit-pool" in details and "alpha" in details
    saved = api.get(f"/deployments/{deployment_id}").json()
    assert saved["description"] == "Edited in the browser" and saved["tags"] == ["alpha", "beta"]
    assert saved["work_pool_name"] == "ui-edit-pool" and saved["concurrency_limit"] == 2
    assert saved["concurrency_options"]["collision_strategy"] == "CANCEL_NEW"
    assert saved["parameters"] == {"count": 5}
    page.browser_errors.expect("status of 409")
