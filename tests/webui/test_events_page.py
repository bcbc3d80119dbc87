"""The Events page in a real browser: events the server recorded for runs of the Prefect client, with filters."""

from __future__ import annotations

import time
from typing import Any

import httpx

from tests.webui.conftest import UiServer


def _wait_for_event(api: httpx.Client, name: str, resource_id: str) -> None:
    """Events are recorded by an actor after the state change: wait until this one is stored."""
    deadline = time.monotonic() + 15
    body = {"filter": {"event": {"name": [name]}, "any_resource": {"id": [resource_id]}}}
    while time.monotonic() < deadline:
        if api.post("/events/filter", json=body).json()["total"] > 0:
            return
        time.sleep(0.2)
    raise AssertionError(f"no {name} event for {resource_id}")


def test_events_of_a_run_are_listed_linked_and_filtered(
    page: Any, ui_server: UiServer, api: httpx.Client, seeded_runs: dict[str, str]
) -> None:
    failed = seeded_runs["failed"]
    _wait_for_event(api, "prefect.flow-run.Failed", f"prefect.flow-run.{failed}")

    page.goto(ui_server.url + "/events")
    assert page.title() == "Events · Baton"
    assert page.locator("table.events-table tbody tr").count() > 0

    page.fill("input[name=event]", "prefect.flow-run.Failed")
    page.click("form.filters button[type=submit]")
    rows = page.locator("table.events-table tbody tr")
    assert rows.count() == 1
    assert rows.first.locator("code").inner_text() == "prefect.flow-run.Failed"
    link = rows.first.locator("td:nth-child(3) a")
    assert link.get_attribute("href") == f"/runs/flow-run/{failed}"
    assert "nightly" not in rows.first.inner_text() and "adhoc" in rows.first.inner_text()

    page.goto(ui_server.url + f"/events?resource=prefect.flow-run.{failed}&window=hour")
    names = page.locator("table.events-table tbody tr code").all_inner_texts()
    assert names[0] == "prefect.flow-run.Failed" and "prefect.flow-run.Running" in names
    # The run's task runs name it as a related resource, so their events match the resource filter too.
    assert all(name.startswith(("prefect.flow-run.", "prefect.task-run.")) for name in names), names
    assert any(name.startswith("prefect.task-run.") for name in names), names


def test_html_run_name_in_events_is_text(
    page: Any, ui_server: UiServer, api: httpx.Client, seeded_runs: dict[str, str]
) -> None:
    html_run = seeded_runs["html"]
    _wait_for_event(api, "prefect.flow-run.Completed", f"prefect.flow-run.{html_run}")
    page.goto(ui_server.url + f"/events?resource=prefect.flow-run.{html_run}")
    assert page.locator("table.events-table script, table.events-table b").count() == 0
    assert "<b>bold</b>" in page.locator("table.events-table").inner_text()


def test_bad_window_is_a_400_page(page: Any, ui_server: UiServer) -> None:
    response = page.goto(ui_server.url + "/events?window=year")
    assert response.status == 400
    page.browser_errors.expect("400")
    assert "The window must be one of hour, day, week" in page.locator("main").inner_text()
