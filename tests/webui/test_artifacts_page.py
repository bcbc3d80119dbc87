"""The Artifacts pages in a real browser: the latest artifact of each key, filters, a key's history, and artifacts
rendered by type without letting their data inject elements or javascript: links."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from tests.webui.conftest import UiServer

HOSTILE_MARKDOWN = """# Weekly report <script>window.__injected = 1</script>

Rows **loaded**: `12 <i>`, see [the dashboard](https://example.com/dash) or [this](javascript:window.__injected=2).

<img src=x onerror="window.__injected = 3">

| table | cell |
|-------|------|
| <b onclick="window.__injected = 4">bold?</b> | 2 |
"""


@pytest.fixture(scope="module")
def artifacts(api: httpx.Client) -> dict[str, Any]:
    """Artifacts made through the API: key -> the created artifact (the newest version), plus the flow run."""
    flow = api.post("/flows/", json={"name": "reporting"}).json()
    run = api.post("/flow_runs/", json={"flow_id": flow["id"], "name": "weekly-<em>run</em>"}).json()

    def create(**body: Any) -> dict[str, Any]:
        response = api.post("/artifacts/", json=body)
        assert response.status_code == 201, response.text
        return response.json()

    made = {"run": run}
    made["first-report"] = create(key="report", type="markdown", data="# First version", flow_run_id=run["id"])
    made["report"] = create(
        key="report",
        type="markdown",
        data=HOSTILE_MARKDOWN,
        description="The <u>weekly</u> report",
        flow_run_id=run["id"],
    )
    made["rows"] = create(
        key="rows",
        type="table",
        data='[{"name": "<script>window.__injected = 5</script>", "count": 3}, {"name": "plain", "count": null}]',
    )
    made["bad-link"] = create(key="bad-link", type="link", data="[open me](javascript:window.__injected=6)")
    made["good-link"] = create(key="good-link", type="link", data="[Docs](https://docs.example.com/a?b=1&c=2)")
    made["progress"] = create(key="progress", type="progress", data=42.5)
    return made


def _not_injected(page: Any) -> None:
    assert page.evaluate("window.__injected") is None
    body = page.locator("#artifact-body")
    assert body.locator("script, img, b, u, iframe").count() == 0
    assert body.locator("a[href^='javascript'], [onclick], [onerror]").count() == 0


def test_list_shows_latest_per_key_with_filters(page: Any, ui_server: UiServer, artifacts: dict[str, Any]) -> None:
    page.goto(ui_server.url + "/artifacts")
    keys = page.locator("#artifact-collections tbody tr").evaluate_all("rows => rows.map(r => r.dataset.key)")
    assert sorted(keys) == ["bad-link", "good-link", "progress", "report", "rows"]
    report = page.locator('#artifact-collections tr[data-key="report"]')
    assert "markdown" in report.inner_text() and "The <u>weekly</u> report" in report.inner_text()
    assert report.locator("u").count() == 0

    page.select_option("#artifact-type", "link")
    page.click("text=Filter")
    keys = page.locator("#artifact-collections tbody tr").evaluate_all("rows => rows.map(r => r.dataset.key)")
    assert sorted(keys) == ["bad-link", "good-link"]
    page.goto(ui_server.url + "/artifacts?q=rep")
    assert page.locator("#artifact-collections tbody tr").count() == 1
    page.goto(ui_server.url + "/artifacts?q=nothing-like-this")
    assert "No artifact key matches" in page.locator("main").inner_text()


def test_markdown_renders_safely_with_history_and_flow_run(
    page: Any, ui_server: UiServer, artifacts: dict[str, Any]
) -> None:
    page.goto(ui_server.url + "/artifacts")
    page.click("text=report")
    page.wait_for_url("**/artifacts/key/report")
    _not_injected(page)
    markdown = page.locator("#artifact-body .markdown")
    assert "Weekly report <script>window.__injected = 1</script>" in markdown.locator("h1").inner_text()
    assert markdown.locator("strong").inner_text() == "loaded"
    assert markdown.locator("code").first.inner_text() == "12 <i>"
    assert markdown.locator("a").count() == 1
    assert markdown.locator("a").get_attribute("href") == "https://example.com/dash"
    assert "<img src=x" in markdown.inner_text()
    assert markdown.locator("table td").first.inner_text().startswith("<b onclick")

    run = artifacts["run"]
    link = page.locator("#artifact-flow-run")
    assert link.get_attribute("href") == f"/runs/flow-run/{run['id']}"
    assert link.inner_text() == "weekly-<em>run</em>"

    history = page.locator("#artifact-history tbody tr")
    assert history.count() == 2
    assert "(shown)" in history.nth(0).inner_text()
    history.nth(1).locator("a").first.click()
    page.wait_for_url(f"**/artifacts/{artifacts['first-report']['id']}")
    assert page.locator("#artifact-body .markdown h1").inner_text() == "First version"
    assert "(shown)" in page.locator("#artifact-history tbody tr").nth(1).inner_text()


def test_table_link_and_progress_artifacts(page: Any, ui_server: UiServer, artifacts: dict[str, Any]) -> None:
    page.goto(ui_server.url + "/artifacts/key/rows")
    _not_injected(page)
    table = page.locator("#artifact-body table")
    assert table.locator("thead th").all_inner_texts() == ["name", "count"]
    cells = table.locator("tbody tr").nth(0).locator("td").all_inner_texts()
    assert cells == ["<script>window.__injected = 5</script>", "3"]
    assert table.locator("tbody tr").nth(1).locator("td").all_inner_texts() == ["plain", ""]

    page.goto(ui_server.url + "/artifacts/key/bad-link")
    _not_injected(page)
    assert page.locator("#artifact-body a").count() == 0
    assert "open me" in page.locator("#artifact-body").inner_text()
    assert "Not a web address" in page.locator("#artifact-body").inner_text()

    page.goto(ui_server.url + "/artifacts/key/good-link")
    anchor = page.locator("#artifact-body a")
    assert anchor.count() == 1 and anchor.inner_text() == "Docs"
    assert anchor.get_attribute("href") == "https://docs.example.com/a?b=1&c=2"

    page.goto(ui_server.url + "/artifacts/key/progress")
    progress = page.locator("#artifact-body progress")
    assert progress.get_attribute("value") == "42.5" and progress.get_attribute("max") == "100"
    assert "42.5%" in page.locator("#artifact-body").inner_text()


def test_delete_a_version_and_unknown_artifacts(
    page: Any, ui_server: UiServer, api: httpx.Client, artifacts: dict[str, Any]
) -> None:
    extra = api.post("/artifacts/", json={"key": "scratch", "type": "markdown", "data": "temporary"}).json()
    page.goto(f"{ui_server.url}/artifacts/{extra['id']}")
    page.click("#delete-artifact")
    page.click("#confirm-ok")
    page.wait_for_url(re.compile(r"/artifacts$"))
    assert api.get(f"/artifacts/{extra['id']}").status_code == 404
    assert page.locator('#artifact-collections tr[data-key="scratch"]').count() == 0

    assert page.goto(ui_server.url + "/artifacts/key/scratch").status == 404
    assert page.goto(ui_server.url + "/artifacts/not-an-id").status == 404
    page.browser_errors.expect("404")
