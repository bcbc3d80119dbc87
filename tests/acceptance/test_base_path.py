"""Baton under a sub-path (BATON_SERVER_BASE_PATH=/orchestrator) behind a real nginx that passes paths through.

The official Prefect client runs a flow with tasks through the proxy (its task runs arrive over the events
websocket), then every UI page reachable from the dashboard is crawled through the proxy: each must answer, and no
link, source, form target or redirect on it may point outside the prefix.
"""

from __future__ import annotations

import json
import re
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.acceptance.conftest import SERVER_KIND, ApiServer, baton_server_on_fresh_database, flow_script
from tests.acceptance.task_runs import wait_for_task_runs
from tests.databases import TemplateDatabases
from tests.nginx_proxy import NginxProxy, nginx_binary

pytestmark = [
    pytest.mark.skipif(SERVER_KIND != "baton", reason="the sub-path is Baton's own setting"),
    pytest.mark.skipif(nginx_binary() is None, reason="nginx is not installed (scripts/nginx.sh installs it)"),
]

ONE_DATABASE = "postgresql"
BASE_PATH = "/orchestrator"
# The pages the crawl opens at most: every kind of page is one or two links from the dashboard.
MAX_PAGES = 120
# Attributes that hold an address the browser follows or the UI's scripts open.
URL_ATTRIBUTES = re.compile(r"""\s(href|src|action|formaction|data-then|data-stream-url)=["']([^"']*)["']""")


@pytest.fixture(scope="module")
def proxied(
    template_databases: TemplateDatabases, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[ApiServer, NginxProxy]]:
    """A Baton server under /orchestrator, and nginx passing /orchestrator/ to it unchanged."""
    for server in baton_server_on_fresh_database(
        "postgresql", template_databases, tmp_path_factory, BATON_SERVER_BASE_PATH=BASE_PATH
    ):
        port = urllib.parse.urlsplit(server.api_url).port
        assert port is not None
        proxy = NginxProxy(tmp_path_factory.mktemp("nginx"), [port], location=f"{BASE_PATH}/")
        try:
            yield server, proxy
        finally:
            proxy.stop()


def _outside_prefix(address: str) -> bool:
    """Whether `address`, found on a page served under the prefix, leads out of it."""
    parts = urllib.parse.urlsplit(address)
    if parts.scheme in ("data", "mailto"):
        return False
    if parts.scheme in ("http", "https") and parts.hostname not in ("127.0.0.1", "localhost"):
        return False  # another site (documentation links)
    if not parts.path:
        return False  # "#main", "?page=2": the same page
    return not (parts.path == BASE_PATH or parts.path.startswith(BASE_PATH + "/"))


def test_prefect_client_and_ui_under_the_sub_path(proxied: tuple[ApiServer, NginxProxy], tmp_path: Path) -> None:
    server, proxy = proxied
    api_url = f"{proxy.url}{BASE_PATH}/api"
    through_proxy = ApiServer(api_url=api_url, database_url=server.database_url)
    completed = flow_script(through_proxy, tmp_path, "tasks_that_log")
    assert completed.returncode == 0, completed.stderr[-4000:]
    flow_run_id = json.loads(completed.stdout.strip().splitlines()[-1])["flow_run_id"]

    with httpx.Client(base_url=api_url, timeout=10.0) as api:
        assert len(wait_for_task_runs(api, flow_run_id, 3)) == 3
        assert api.get(f"/flow_runs/{flow_run_id}").json()["state_type"] == "COMPLETED"
        assert api.get("/openapi.json").json()["servers"] == [{"url": BASE_PATH}]
        page = api.post("/events/filter", json={"limit": 1}).json()
        assert page["next_page"] is None or page["next_page"].startswith(f"{api_url}/events/filter/next")
        assert page["next_page"] is not None, "the flow's events fill more than one page of one"
        assert api.get(page["next_page"]).status_code == 200

    # Outside the prefix the server answers nothing (nginx passes only the prefix; the server itself neither).
    direct = server.api_url.removesuffix(f"{BASE_PATH}/api")
    assert httpx.get(f"{direct}/api/health").status_code == 404
    assert httpx.get(f"{direct}{BASE_PATH}/api/health").json() is True

    # The sign-in page sends a signed-in (here: anonymous, auth off) caller on to `next`, under the prefix.
    sign_in = httpx.get(f"{proxy.url}{BASE_PATH}/login", params={"next": "/runs?state=Completed"})
    assert sign_in.status_code == 302
    assert sign_in.headers["location"] == f"{BASE_PATH}/runs?state=Completed"

    pages = [f"{BASE_PATH}/", f"{BASE_PATH}/runs/flow-run/{flow_run_id}", f"{BASE_PATH}/docs"]
    seen: set[str] = set(pages)
    leaks: list[str] = []
    with httpx.Client(base_url=proxy.url, timeout=10.0) as browser:
        while pages and len(seen) <= MAX_PAGES:
            path = pages.pop(0)
            answer = browser.get(path)
            if answer.is_redirect:
                location = answer.headers["location"]
                if _outside_prefix(location):
                    leaks.append(f"{path} redirects to {location}")
                continue
            assert answer.status_code == 200, f"{path}: {answer.status_code}"
            if "text/html" not in answer.headers.get("content-type", ""):
                continue
            for attribute, address in URL_ATTRIBUTES.findall(answer.text):
                if _outside_prefix(address):
                    leaks.append(f"{path}: {attribute}={address}")
                    continue
                target = urllib.parse.urlsplit(urllib.parse.urljoin(path, address))
                followed = target.path + (f"?{target.query}" if target.query else "")
                if attribute == "href" and target.path.startswith(BASE_PATH) and followed not in seen:
                    if "/stream" in target.path or target.path.endswith(".txt") or "/api/" in target.path:
                        continue
                    seen.add(followed)
                    pages.append(followed)
    assert not leaks, "\n".join(leaks)
    assert len(seen) > 20, sorted(seen)
