"""Every list page keeps its filters in its URL: a filter applied, a detail page opened, and Back shows the same
filtered list with the filter in its field."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from tests.webui.conftest import UiServer


@dataclass(frozen=True)
class FilterCase:
    """On `path`, `value` typed into (or chosen in) `field` and submitted puts `param` in the URL, shows `shown` and
    hides `hidden`; the first `link` (into a result, where the page has any) is followed before going back."""

    path: str
    field: str
    param: str
    value: str
    shown: str
    hidden: str
    link: str
    submits_on_change: bool = False


CASES = [
    FilterCase(
        "/task-runs/{load_task_run}",
        "#log-level",
        "level",
        "WARNING",
        "loading batch",
        "Finished in state",
        "main a[href^='/runs/flow-run/']",
        submits_on_change=True,
    ),
    FilterCase(
        "/runs/flow-run/{failed}",
        "#log-level",
        "level",
        "ERROR",
        "the warehouse refused the load",
        "etl starting",
        "main a[href^='/flows/']",
        submits_on_change=True,
    ),
    FilterCase("/flows", 'input[name="name"]', "name", "rep", "report", "etl", "main table a[href^='/flows/']"),
    FilterCase(
        "/deployments",
        'input[name="name"]',
        "name",
        "weekly",
        "addr-weekly",
        "addr-daily",
        "main table a[href^='/deployments/']",
    ),
    FilterCase(
        "/variables",
        "#variable-search",
        "q",
        "addr_weekly",
        "addr_weekly",
        "addr_daily",
        "main table a[href^='/variables/']",
    ),
    FilterCase(
        "/blocks", "#block-search", "q", "addr-weekly", "addr-weekly", "addr-daily", "main table a[href^='/blocks/']"
    ),
    FilterCase(
        "/artifacts",
        "#artifact-search",
        "q",
        "addr-weekly",
        "addr-weekly",
        "addr-daily",
        "main table a[href^='/artifacts/']",
    ),
    FilterCase(
        "/runs", 'select[name="flow"]', "flow", "report", "bold", "nightly", "main table a[href^='/runs/flow-run/']"
    ),
    FilterCase("/", "#dashboard-tag", "tag", "adhoc", "adhoc", "", "main a[href^='/runs']"),
    FilterCase(
        "/events",
        'input[name="event"]',
        "event",
        "prefect.flow-run.",
        "prefect.flow-run.",
        "prefect.task-run.",
        "main a[href^='/runs/flow-run/']",
    ),
    FilterCase(
        "/audit",
        "#audit-action",
        "action_prefix",
        "variable.",
        "variable.",
        "block_document.",
        # The audit log links to no detail page: leave it for the Runs page.
        "nav.sidebar a[href='/runs']",
    ),
]


def _created(response: httpx.Response) -> None:
    assert response.status_code in (200, 201), response.text


@pytest.fixture(scope="module")
def objects(api: httpx.Client, seeded_runs: dict[str, str]) -> dict[str, str]:
    """Two of each kind, so that a filter visibly hides one; the ids the cases' paths and values name."""
    run = api.get(f"/flow_runs/{seeded_runs['html']}").json()
    block_type = api.get("/block_types/slug/custom-webhook").json()
    schema = api.post("/block_schemas/filter", json={"block_schemas": {"block_type_id": {"any_": [block_type["id"]]}}})
    for period in ("weekly", "daily"):
        _created(api.post("/deployments/", json={"name": f"addr-{period}", "flow_id": run["flow_id"]}))
        _created(api.post("/variables/", json={"name": f"addr_{period}", "value": period}))
        _created(api.post("/artifacts/", json={"key": f"addr-{period}", "type": "markdown", "data": period}))
        _created(
            api.post(
                "/block_documents/",
                json={
                    "name": f"addr-{period}",
                    "block_type_id": block_type["id"],
                    "block_schema_id": schema.json()[0]["id"],
                    "data": {"name": period, "url": "http://127.0.0.1:9/hook"},
                },
            )
        )
    task_runs = api.post("/task_runs/filter", json={"flow_runs": {"id": {"any_": [seeded_runs["failed"]]}}}).json()
    load = next(task_run for task_run in task_runs if task_run["name"].startswith("load"))
    return {"report": run["flow_id"], "failed": seeded_runs["failed"], "load_task_run": load["id"]}


def _field_value(page: Any, selector: str) -> str:
    return str(page.eval_on_selector(selector, "element => element.value"))


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.path.strip("/") or "dashboard")
def test_filter_survives_a_visit_to_a_detail_page_and_back(
    page: Any, ui_server: UiServer, objects: dict[str, str], case: FilterCase
) -> None:
    value = objects.get(case.value, case.value)
    page.goto(ui_server.url + case.path.format(**objects))
    if page.locator(case.field).evaluate("element => element.tagName") == "SELECT":
        with page.expect_navigation():
            page.select_option(case.field, value)
            if not case.submits_on_change:
                page.locator(case.field).evaluate("element => element.form.requestSubmit()")
    else:
        page.fill(case.field, value)
        with page.expect_navigation():
            page.press(case.field, "Enter")
    filtered_url = page.url
    assert parse_qs(urlparse(filtered_url).query).get(case.param) == [value], filtered_url
    main = page.locator("main").inner_text()
    assert case.shown in main
    if case.hidden:
        assert case.hidden not in main

    with page.expect_navigation():
        page.locator(case.link).first.click()
    assert page.url != filtered_url
    page.go_back()
    page.wait_for_load_state()
    assert page.url == filtered_url
    assert _field_value(page, case.field) == value
    main = page.locator("main").inner_text()
    assert case.shown in main
    if case.hidden:
        assert case.hidden not in main

    page.go_forward()
    page.wait_for_load_state()
    page.go_back()
    page.wait_for_load_state()
    assert page.url == filtered_url and _field_value(page, case.field) == value
