"""The search box: /search finds flows, deployments, flow runs and blocks by part of their names, shows only the
kinds the principal may read, and the Copy id buttons put an id on the clipboard."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from baton.server.auth.principal import Principal
from baton.webui.pages.search import MATCHES_PER_KIND, searchable_kinds
from tests.webui.conftest import UiServer


@pytest.fixture(scope="module")
def named(api: httpx.Client) -> dict[str, str]:
    """One of each kind whose name contains "Heron" (in different cases), and a few that do not."""

    def post(path: str, body: dict[str, Any]) -> str:
        response = api.post(path, json=body)
        assert response.status_code in (200, 201), response.text
        return str(response.json()["id"])

    flow_id = post("/flows/", {"name": "grey-heron-etl"})
    other_flow_id = post("/flows/", {"name": "sparrow-report"})
    deployment_id = post("/deployments/", {"name": "nightly HERON", "flow_id": flow_id})
    run_id = post("/flow_runs/", {"flow_id": other_flow_id, "name": "heron-run-1"})
    post("/flow_runs/", {"flow_id": other_flow_id, "name": "sparrow-run-1"})
    secret_type = api.get("/block_types/slug/secret").json()
    schemas = api.post(
        "/block_schemas/filter", json={"block_schemas": {"block_type_id": {"any_": [secret_type["id"]]}}}
    )
    block_id = post(
        "/block_documents/",
        {
            "name": "heron-password",
            "block_type_id": secret_type["id"],
            "block_schema_id": schemas.json()[0]["id"],
            "data": {"value": "not-in-any-page"},
        },
    )
    return {"flow": flow_id, "deployment": deployment_id, "run": run_id, "block": block_id}


def _groups(html: str) -> dict[str, str]:
    """The search page's result groups: kind -> the group's HTML."""
    return dict(re.findall(r'data-search-kind="([a-z_]+)">(.*?)</section>', html, flags=re.S))


def test_search_finds_every_kind_case_insensitively(ui_server: UiServer, named: dict[str, str]) -> None:
    response = httpx.get(ui_server.url + "/search", params={"q": "heron"})
    assert response.status_code == 200
    groups = _groups(response.text)
    assert list(groups) == ["flows", "deployments", "flow_runs", "blocks"]
    assert f'href="/flows/{named["flow"]}"' in groups["flows"] and "sparrow-report" not in groups["flows"]
    assert f'href="/deployments/{named["deployment"]}"' in groups["deployments"]
    assert "of grey-heron-etl" in groups["deployments"]
    assert f'href="/runs/flow-run/{named["run"]}"' in groups["flow_runs"] and "sparrow-run-1" not in response.text
    assert f'href="/blocks/{named["block"]}"' in groups["blocks"]
    assert "not-in-any-page" not in response.text


def test_no_match_and_wildcards_are_literal(ui_server: UiServer, named: dict[str, str]) -> None:
    html = httpx.get(ui_server.url + "/search", params={"q": "%"}).text
    groups = _groups(html)
    assert len(groups) == 4
    assert all("href=" not in group for group in groups.values())
    assert "No flows whose name contains “%”." in groups["flows"]


def test_empty_query_shows_the_hint_and_no_groups(ui_server: UiServer, named: dict[str, str]) -> None:
    for params in ({}, {"q": "   "}):
        response = httpx.get(ui_server.url + "/search", params=params)
        assert response.status_code == 200
        assert 'id="search-hint"' in response.text
        assert _groups(response.text) == {}


def test_matches_are_capped_per_kind(ui_server: UiServer, api: httpx.Client) -> None:
    for number in range(MATCHES_PER_KIND + 2):
        assert api.post("/flows/", json={"name": f"kingfisher-{number:02d}"}).status_code in (200, 201)
    groups = _groups(httpx.get(ui_server.url + "/search", params={"q": "KINGFISHER"}).text)
    assert groups["flows"].count('href="/flows/') == MATCHES_PER_KIND
    assert "kingfisher-00" in groups["flows"] and "kingfisher-11" not in groups["flows"]


def test_only_the_kinds_a_principal_may_read_are_searched() -> None:
    reader = Principal(kind="user", name="r", role="custom", permissions=frozenset({"flow:read", "block:read"}))
    assert [kind.key for kind in searchable_kinds(reader)] == ["flows", "blocks"]
    nobody = Principal(kind="user", name="n", role="custom", permissions=frozenset())
    assert searchable_kinds(nobody) == []


@pytest.mark.both_databases
def test_typing_in_the_sidebar_box_and_following_a_result(
    page: Any, ui_server: UiServer, named: dict[str, str]
) -> None:
    page.goto(ui_server.url + "/settings")
    page.fill("#site-search", "Grey-Her")
    page.press("#site-search", "Enter")
    page.wait_for_url(re.compile(r"/search\?q=Grey-Her"))
    assert page.input_value("#search-page-input") == "Grey-Her"
    page.click('[data-search-kind="flows"] a:has-text("grey-heron-etl")')
    page.wait_for_url(ui_server.url + f"/flows/{named['flow']}")
    assert page.title() == "grey-heron-etl · Baton"


@pytest.mark.parametrize(
    ("kind", "path"),
    [
        ("flow", "/flows/{}"),
        ("deployment", "/deployments/{}"),
        ("run", "/runs/flow-run/{}?tab=details"),
        ("block", "/blocks/{}"),
    ],
)
def test_copy_id_puts_the_id_on_the_clipboard(
    page: Any, ui_server: UiServer, named: dict[str, str], kind: str, path: str
) -> None:
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=ui_server.url)
    page.goto(ui_server.url + path.format(named[kind]))
    button = page.locator("button[data-copy]")
    assert button.get_attribute("data-copy") == named[kind]
    button.click()
    page.wait_for_function("document.getElementById('flash').textContent === 'The id was copied to the clipboard.'")
    assert page.evaluate("navigator.clipboard.readText()") == named[kind]
