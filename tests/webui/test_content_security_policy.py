"""The UI under its Content-Security-Policy (no inline script, no inline style) in a real browser: pages load without
a single violation and their scripts still work.

Chromium reports a violation both as a console error (which fails any UI test, see conftest.py) and as a
`securitypolicyviolation` event, recorded here by a script that Playwright injects outside the page's policy.
"""

from __future__ import annotations

import re
from typing import Any

import httpx

from baton.server.browser_guard import CONTENT_SECURITY_POLICY
from tests.webui.conftest import UiServer

RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", function (event) {
  window.__violations.push(event.violatedDirective + " " + (event.blockedURI || "inline") + " " + event.sourceFile);
});
"""


def _open(page: Any, url: str) -> None:
    page.add_init_script(RECORD_VIOLATIONS)
    response = page.goto(url)
    assert response.status == 200, url
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert response.headers["x-frame-options"] == "DENY"
    page.wait_for_load_state("load")


def _violations(page: Any) -> list[str]:
    return list(page.evaluate("window.__violations"))


def test_dashboard_and_the_theme_toggle(page: Any, ui_server: UiServer) -> None:
    _open(page, ui_server.url + "/")
    theme = page.evaluate("document.documentElement.dataset.theme")
    assert theme in ("light", "dark")  # set by static/theme.js before the page painted
    page.click("[data-action=toggle-theme]")
    toggled = "dark" if theme == "light" else "light"
    assert page.evaluate("document.documentElement.dataset.theme") == toggled
    page.reload()
    assert page.evaluate("document.documentElement.dataset.theme") == toggled
    assert _violations(page) == []


def test_run_page_and_its_cancel_button(page: Any, ui_server: UiServer, api: httpx.Client) -> None:
    flow = api.post("/flows/", json={"name": "csp-flow"}).json()
    run = api.post("/flow_runs/", json={"flow_id": flow["id"], "state": {"type": "SCHEDULED"}}).json()
    _open(page, f"{ui_server.url}/runs/flow-run/{run['id']}")
    page.click("[data-run-action=cancel]")
    with page.expect_navigation():
        page.click("#confirm-ok")
    assert api.get(f"/flow_runs/{run['id']}").json()["state"]["type"] == "CANCELLED"
    assert _violations(page) == []


def test_blocks_page(page: Any, ui_server: UiServer) -> None:
    _open(page, ui_server.url + "/blocks")
    assert page.title() == "Blocks · Baton"
    assert _violations(page) == []


def test_variables_form_submits(page: Any, ui_server: UiServer, api: httpx.Client) -> None:
    _open(page, ui_server.url + "/variables/new")
    page.fill("#variable-name", "csp_checked")
    page.fill("#variable-value", '{"ok": true}')
    page.click("text=Create variable")
    page.wait_for_url(re.compile(r"/variables\?q=csp_checked$"))
    assert api.get("/variables/name/csp_checked").json()["value"] == {"ok": True}
    assert _violations(page) == []


def test_notifications_form_previews_through_the_api(page: Any, ui_server: UiServer) -> None:
    _open(page, ui_server.url + "/notifications/new")
    page.wait_for_function("document.getElementById('preview-message').textContent.includes('fuzzy-leopard')")
    page.fill("#policy-template", "Run {flow_run_name} is {flow_run_state_name}")
    page.wait_for_function("document.getElementById('preview-message').textContent === 'Run fuzzy-leopard is Failed'")
    assert _violations(page) == []


def test_an_inline_script_would_be_refused(page: Any, ui_server: UiServer) -> None:
    """The recorder works: a script injected into the page is blocked and reported."""
    _open(page, ui_server.url + "/settings")
    page.evaluate(
        "() => { const s = document.createElement('script'); s.textContent = 'window.__ran = true';"
        " document.body.appendChild(s); }"
    )
    page.wait_for_function("window.__violations.length > 0")
    assert page.evaluate("window.__ran === undefined")
    assert _violations(page)[0].startswith("script-src")
    page.browser_errors.expect("Content Security Policy")
