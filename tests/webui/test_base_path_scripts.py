"""The UI's scripts under a sub-path (BATON_SERVER_BASE_PATH) behind nginx, in a real browser: their API calls,
the page they go to after saving, and a button's data-then all stay under the prefix.

tests/acceptance/test_base_path.py crawls every page's links without running scripts; this runs them.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from baton.server.workspaces import DEFAULT_ACCOUNT_ID
from tests.acceptance.conftest import baton_server
from tests.databases import TemplateDatabases
from tests.nginx_proxy import NginxProxy, nginx_binary
from tests.webui.conftest import UiServer

pytestmark = pytest.mark.skipif(nginx_binary() is None, reason="nginx is not installed (scripts/nginx.sh installs it)")

BASE_PATH = "/orchestrator"


@pytest.fixture(scope="module")
def ui_server(template_databases: TemplateDatabases, tmp_path_factory: pytest.TempPathFactory) -> Iterator[UiServer]:
    """A server under /orchestrator on a fresh PostgreSQL database, reached through nginx."""
    url = template_databases.clone("postgresql", tmp_path_factory.mktemp("ui-db"))
    try:
        for server in baton_server(tmp_path_factory.mktemp("ui-home"), url, BATON_SERVER_BASE_PATH=BASE_PATH):
            port = urllib.parse.urlsplit(server.api_url).port
            assert port is not None
            proxy = NginxProxy(tmp_path_factory.mktemp("nginx"), [port], location=f"{BASE_PATH}/")
            try:
                yield UiServer(url=proxy.url + BASE_PATH, api_url=f"{proxy.url}{BASE_PATH}/api", database_url=url)
            finally:
                proxy.stop()
    finally:
        template_databases.drop(url)


def test_scripts_call_the_api_and_navigate_under_the_sub_path(page: Any, ui_server: UiServer) -> None:
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(ui_server.url + "/variables/new")
    page.fill("#variable-name", "under_prefix")
    page.fill("#variable-value", '"x"')
    page.click("text=Create variable")
    page.wait_for_url(re.compile(rf"{BASE_PATH}/variables\?q=under_prefix$"))
    with httpx.Client(base_url=ui_server.api_url) as api:
        variable = api.get("/variables/name/under_prefix").json()
        assert variable["value"] == "x"

        page.goto(f"{ui_server.url}/variables/{variable['id']}")
        page.click("#delete-variable")
        page.click("#confirm-ok")
        page.wait_for_url(re.compile(rf"{BASE_PATH}/variables$"))
        assert api.get("/variables/name/under_prefix").status_code == 404

    proxy_root = ui_server.url.removesuffix(BASE_PATH)
    outside = [url for url in requests if url.startswith(proxy_root) and not url.startswith(ui_server.url + "/")]
    assert not outside, outside


def test_scripts_in_a_workspace_stay_in_it_under_the_sub_path(page: Any, ui_server: UiServer) -> None:
    with httpx.Client(base_url=ui_server.api_url) as api:
        workspace_id = api.post("/workspaces/", json={"name": "prefixed"}).raise_for_status().json()["id"]
    workspace_page = f"{ui_server.url}/workspaces/{workspace_id}"
    workspace_api = f"{ui_server.api_url}/accounts/{DEFAULT_ACCOUNT_ID}/workspaces/{workspace_id}"
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(workspace_page + "/variables/new")
    page.fill("#variable-name", "in_workspace")
    page.fill("#variable-value", '"y"')
    page.click("text=Create variable")
    page.wait_for_url(f"{workspace_page}/variables?q=in_workspace")
    assert f"{workspace_api}/variables/" in requests
    with httpx.Client(base_url=workspace_api) as api:
        variable = api.get("/variables/name/in_workspace").json()
        assert variable["value"] == "y"
        with httpx.Client(base_url=ui_server.api_url) as default:
            assert default.get("/variables/name/in_workspace").status_code == 404

        page.goto(f"{workspace_page}/variables/{variable['id']}")
        page.click("#delete-variable")
        page.click("#confirm-ok")
        page.wait_for_url(f"{workspace_page}/variables")
        assert api.get("/variables/name/in_workspace").status_code == 404
