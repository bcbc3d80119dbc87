"""The work pool forms with authentication on: a viewer sees no New, Edit or queue form and cannot open the form
pages; a developer (work_pool:write) can."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.databases import TemplateDatabases
from tests.webui.auth_server import admin_headers, auth_ui_server, sign_in
from tests.webui.conftest import UiServer


@pytest.fixture(scope="module")
def ui_server(
    ui_database: str, template_databases: TemplateDatabases, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[UiServer]:
    url = template_databases.clone(ui_database, tmp_path_factory.mktemp("ui-db"))
    try:
        yield from auth_ui_server(tmp_path_factory.mktemp("ui-home"), url)
    finally:
        template_databases.drop(url)


@pytest.fixture(scope="module")
def pool(ui_server: UiServer) -> str:
    with httpx.Client(base_url=ui_server.api_url, headers=admin_headers(), timeout=10.0) as admin:
        assert admin.post("/work_pools/", json={"name": "guarded-pool", "type": "process"}).status_code == 201
    return "guarded-pool"


def test_a_viewer_gets_no_pool_forms(page: Any, ui_server: UiServer, pool: str) -> None:
    sign_in(page, ui_server, "victor", "/work-pools")
    assert page.locator('tr[data-pool-name="guarded-pool"]').count() == 1
    assert page.locator("#new-pool").count() == 0
    page.goto(f"{ui_server.url}/work-pools/{pool}")
    assert page.locator("#edit-pool").count() == 0
    assert page.locator("#queue-form").count() == 0
    assert page.locator('[data-queue-action="edit"]').count() == 0
    assert page.locator('[data-queue-action="pause"]').is_disabled()
    for path in ("/work-pools/new", f"/work-pools/{pool}/edit"):
        response = page.goto(ui_server.url + path)
        assert response.status == 403, path
    page.browser_errors.expect("403")


def test_a_developer_gets_the_forms(page: Any, ui_server: UiServer, pool: str) -> None:
    sign_in(page, ui_server, "dora", "/work-pools")
    assert page.locator("#new-pool").count() == 1
    page.goto(f"{ui_server.url}/work-pools/{pool}")
    assert page.locator("#edit-pool").count() == 1
    assert page.locator("#queue-form").count() == 1
    page.goto(f"{ui_server.url}/work-pools/new")
    page.locator('#pool-type option[value="process"]').wait_for(state="attached")
