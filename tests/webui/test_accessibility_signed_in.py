"""With authentication on: the sign-in page, the identity pages (as an admin sees them, with a user, a service
account and audit entries), the Workspaces pages and a workspace's page have no serious or critical axe-core violation
in either theme or viewport."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.databases import TemplateDatabases
from tests.webui.auth_server import admin_headers, auth_ui_server, sign_in
from tests.webui.axe import axe_script, check_page, write_results
from tests.webui.conftest import ARTIFACTS_DIR, SCREENSHOT_EVERY_TEST, UiServer

SCREENSHOTS = ARTIFACTS_DIR / "screenshots" / "themes-signed-in"
SIGNED_IN_PAGES = ("/users", "/roles", "/service-accounts", "/account", "/audit", "/workspaces")


@pytest.fixture(scope="module")
def ui_server(
    ui_database: str, template_databases: TemplateDatabases, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[UiServer]:
    url = template_databases.clone(ui_database, tmp_path_factory.mktemp("ui-db"))
    try:
        yield from auth_ui_server(tmp_path_factory.mktemp("ui-home"), url)
    finally:
        template_databases.drop(url)


def test_sign_in_and_identity_pages_have_no_serious_violation(page: Any, ui_server: UiServer) -> None:
    with httpx.Client(base_url=ui_server.api_url, headers=admin_headers(), timeout=10.0) as admin:
        created = admin.post("/service_accounts/", json={"name": "a11y-deployer", "role": "developer"})
        assert created.status_code == 201, created.text
        workspace = admin.post("/workspaces/", json={"name": "a11y-team"})
        assert workspace.status_code == 201, workspace.text
        workspace_id = workspace.json()["id"]
        member = admin.put(f"/workspaces/{workspace_id}/members/{created.json()['id']}", json={"role": "viewer"})
        assert member.status_code == 200, member.text
    pages = (*SIGNED_IN_PAGES, f"/workspace-settings/{workspace_id}", f"/workspaces/{workspace_id}/runs")
    axe = axe_script()
    results: list[dict[str, Any]] = []
    page.goto(ui_server.url + "/login")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    failures = check_page(
        page, axe, results, route="/login", screenshots=SCREENSHOTS, every_screenshot=SCREENSHOT_EVERY_TEST
    )
    sign_in(page, ui_server, "alice")
    for path in pages:
        response = page.goto(ui_server.url + path)
        assert response.status == 200, path
        failures += check_page(
            page, axe, results, route=path, screenshots=SCREENSHOTS, every_screenshot=SCREENSHOT_EVERY_TEST
        )
    write_results("axe-results-signed-in", results, ARTIFACTS_DIR)
    assert len(results) == 4 * (1 + len(pages))
    assert not failures, "\n".join(failures)
