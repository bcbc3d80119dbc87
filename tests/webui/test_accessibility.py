"""Every UI page passes axe-core with no serious or critical violation in the light and dark themes (at 1280x800), and
fits 1280x800 and 1920x1080 without sideways scrolling. The full results are written to
test-artifacts/accessibility/."""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from baton.webui.routes import PAGE_MODULES
from tests.webui.axe import VIEWPORTS, axe_script, check_page, write_results
from tests.webui.conftest import ARTIFACTS_DIR, SCREENSHOT_EVERY_TEST, UiServer

# Routes that are not pages a reader looks at: streams, a text download, redirects, and sign-in (which the server
# under test, with authentication off, redirects to the dashboard; test_accessibility_signed_in.py checks it; single
# sign-on's two routes redirect to and from the identity provider, test_sso.py drives them).
NOT_PAGES = {
    r"/runs/flow-run/(?P<flow_run_id>[^/]+)/logs\.txt",
    r"/runs/flow-run/(?P<flow_run_id>[^/]+)/stream",
    r"/task-runs/(?P<flow_run_id>[^/]+)/stream",
    r"/deployments/deployment/(?P<deployment_id>[^/]+)/?",
    r"/login/?",
    r"/logout/?",
    r"/login/sso/?",
    r"/login/sso/callback/?",
}
# Pages that need a query to show anything.
QUERIES = {r"/blocks/new/?": "?type=custom-webhook"}
SCREENSHOTS = ARTIFACTS_DIR / "screenshots" / "themes"
FLOW_RUN_PAGE = r"/runs/flow-run/(?P<flow_run_id>[^/]+)/?"
# Views of a page that show other controls than its plain URL: a run's other tabs, filtered lists.
OTHER_VIEWS = [
    (FLOW_RUN_PAGE, "?tab=task-runs"),
    (FLOW_RUN_PAGE, "?tab=subflows"),
    (FLOW_RUN_PAGE, "?tab=artifacts"),
    (FLOW_RUN_PAGE, "?tab=states"),
    (FLOW_RUN_PAGE, "?level=ERROR&q=warehouse"),
    (r"/runs/?", "?state=FAILED&state=COMPLETED&state=LATE&sort=name_asc"),
    (r"/task-runs/?", "?state=COMPLETED&state=FAILED&sort=name_asc"),
    (r"/events/?", "?event=prefect.flow-run."),
    (r"/search/?", "?q=etl"),
]


def _page_patterns() -> list[str]:
    patterns = []
    for name in PAGE_MODULES:
        for pattern, *_ in importlib.import_module(f"baton.webui.pages.{name}").routes:
            if pattern not in NOT_PAGES:
                patterns.append(pattern)
    return patterns


# One more view, checked on both databases (conftest.py): the dashboard's week, its charts bucketed in each one's SQL.
BOTH_DATABASES_VIEW = (r"/", "?window=week&tag=nightly")


def _views() -> list[tuple[str, str]]:
    return [(pattern, QUERIES.get(pattern, "")) for pattern in _page_patterns()] + OTHER_VIEWS


def _view_id(view: tuple[str, str]) -> str:
    return re.sub(r"\W+", "-", "".join(view)).strip("-") or "dashboard"


def _created(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code in (200, 201), response.text
    return dict(response.json())


def _webhook_block(api: httpx.Client) -> str:
    block_type = api.get("/block_types/slug/custom-webhook").json()
    schemas = api.post("/block_schemas/filter", json={"block_schemas": {"block_type_id": {"any_": [block_type["id"]]}}})
    document = api.post(
        "/block_documents/",
        json={
            "name": "a11y-hook",
            "block_type_id": block_type["id"],
            "block_schema_id": schemas.json()[0]["id"],
            "data": {"name": "a11y-hook", "url": "http://127.0.0.1:9/hook"},
        },
    )
    return str(_created(document)["id"])


@pytest.fixture(scope="module")
def page_urls(api: httpx.Client, seeded_runs: dict[str, str]) -> dict[str, str]:
    """Route pattern -> its path, with one object of each kind made for the detail pages."""
    run = api.get(f"/flow_runs/{seeded_runs['failed']}").json()
    task_run = api.post("/task_runs/filter", json={"flow_runs": {"id": {"any_": [run["id"]]}}}).json()[0]
    _created(api.post("/work_pools/", json={"name": "a11y-pool", "type": "process"}))
    _created(api.post("/work_pools/a11y-pool/queues", json={"name": "urgent"}))
    deployment = _created(
        api.post(
            "/deployments/",
            json={
                "name": "a11y-nightly",
                "flow_id": run["flow_id"],
                "work_pool_name": "a11y-pool",
                "schedules": [{"schedule": {"interval": 3600}, "active": True}],
            },
        )
    )
    block_id = _webhook_block(api)
    variable = _created(api.post("/variables/", json={"name": "a11y_setting", "value": {"retries": 3}}))
    artifact = _created(
        api.post(
            "/artifacts/",
            json={"key": "a11y-report", "type": "markdown", "data": "# Report", "flow_run_id": run["id"]},
        )
    )
    automation = _created(
        api.post(
            "/automations/",
            json={
                "name": "a11y-automation",
                "trigger": {"type": "event", "expect": ["prefect.flow-run.Failed"], "posture": "Reactive"},
                "actions": [{"type": "cancel-flow-run"}],
            },
        )
    )
    policy = _created(
        api.post(
            "/flow_run_notification_policies/",
            json={"name": "a11y-policy", "state_names": ["Failed"], "block_document_id": block_id},
        )
    )
    # A workspace besides the default one: every page shows the sidebar's workspace switcher.
    workspace = _created(api.post("/workspaces/", json={"name": "a11y-team"}))
    values = {
        "workspace_id": workspace["id"],
        "flow_run_id": run["id"],
        "task_run_id": task_run["id"],
        "flow_id": run["flow_id"],
        "deployment_id": deployment["id"],
        "block_document_id": block_id,
        "variable_id": variable["id"],
        "artifact_id": artifact["id"],
        "key": "a11y-report",
        "automation_id": automation["id"],
        "policy_id": policy["id"],
        "name": "a11y-pool",
    }
    urls = {}
    for pattern in _page_patterns():
        missing = set(re.findall(r"\(\?P<(\w+)>", pattern)) - values.keys()
        if missing:
            pytest.fail(f"A new page {pattern} needs an object for {', '.join(sorted(missing))}: make one above")
        path = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda match: str(values[match.group(1)]), pattern)
        urls[pattern] = path.removesuffix("/?").replace("\\", "") or "/"
    return urls


@pytest.fixture(scope="module")
def shared_page(browser: Any) -> Iterator[Any]:
    """One page for the module's tests (a context per page would cost more than the check); JavaScript errors and
    failed console messages fail the module at its end."""
    context = browser.new_context(viewport=VIEWPORTS[0], timezone_id="Europe/Berlin")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(f"page error: {error}"))
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    yield page
    context.close()
    assert not errors, "the browser reported errors:\n" + "\n".join(errors)


@pytest.fixture(scope="module")
def axe() -> str:
    return axe_script()


@pytest.fixture(scope="module")
def report() -> Iterator[list[dict[str, Any]]]:
    """axe-core's results for every page, theme and viewport, written to test-artifacts/accessibility/."""
    results: list[dict[str, Any]] = []
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    yield results
    write_results("axe-results", results, ARTIFACTS_DIR)


@pytest.mark.parametrize("view", _views(), ids=_view_id)
def test_page_has_no_serious_accessibility_violation(
    shared_page: Any,
    axe: str,
    ui_server: UiServer,
    page_urls: dict[str, str],
    report: list[dict[str, Any]],
    view: tuple[str, str],
) -> None:
    _check_view(shared_page, axe, ui_server, page_urls, report, view)


@pytest.mark.both_databases
def test_the_dashboards_week_has_no_serious_accessibility_violation(
    shared_page: Any, axe: str, ui_server: UiServer, page_urls: dict[str, str], report: list[dict[str, Any]]
) -> None:
    _check_view(shared_page, axe, ui_server, page_urls, report, BOTH_DATABASES_VIEW)


def _check_view(
    page: Any,
    axe: str,
    ui_server: UiServer,
    page_urls: dict[str, str],
    report: list[dict[str, Any]],
    view: tuple[str, str],
) -> None:
    pattern, query = view
    path = page_urls[pattern] + query
    page.set_viewport_size(VIEWPORTS[0])
    response = page.goto(ui_server.url + path)
    assert response.status == 200, path
    failures = check_page(
        page, axe, report, route=pattern, screenshots=SCREENSHOTS, every_screenshot=SCREENSHOT_EVERY_TEST
    )
    assert not failures, "\n".join(failures)


def test_confirmation_dialog_has_no_serious_accessibility_violation(
    shared_page: Any, axe: str, ui_server: UiServer, page_urls: dict[str, str], report: list[dict[str, Any]]
) -> None:
    page = shared_page
    page.goto(ui_server.url + page_urls[r"/variables/(?P<variable_id>[^/]+)/?"])
    page.click("#delete-variable")
    assert page.evaluate("document.getElementById('confirm-dialog').open")
    failures = check_page(
        page, axe, report, route="confirm-dialog", screenshots=SCREENSHOTS, every_screenshot=SCREENSHOT_EVERY_TEST
    )
    page.keyboard.press("Escape")
    assert not page.evaluate("document.getElementById('confirm-dialog').open")
    assert not failures, "\n".join(failures)


@pytest.mark.both_databases
def test_keyboard_skips_the_sidebar_into_the_content(shared_page: Any, ui_server: UiServer) -> None:
    page = shared_page
    page.goto(ui_server.url + "/runs")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    page.keyboard.press("Tab")
    assert page.evaluate("document.getElementById('main').contains(document.activeElement)")
    # The first stop in the content is the page's first control: the Flow runs / Task runs tabs, then the filters.
    assert page.evaluate("document.activeElement.closest('nav.tabs') !== null")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('#run-filters') !== null")
