"""The addresses of a workspace's pages: which links a page of a workspace keeps in it, where the switcher leads, and
the routing of `/workspaces/{id}/...` to the page's own path."""

from __future__ import annotations

import uuid

import pytest
from tornado.httputil import HTTPServerRequest, RequestStartLine

from baton.server.workspaces import DEFAULT_ACCOUNT_ID, WorkspaceReference, route_to_workspace_page, workspace_of
from baton.webui.workspace_scope import (
    DEFAULT_CHOICE,
    SWITCHER_ENTRIES,
    WorkspaceChoice,
    api_base,
    in_workspace,
    prefix_workspace_urls,
    section_path,
    switch_page_url,
    switcher_entries,
)

WORKSPACE = "4b0c1f7e-6a39-4d55-9d2e-2f3c8a1e9b10"
PREFIX = f"/workspaces/{WORKSPACE}"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("/runs", f"{PREFIX}/runs"),
        ("/", f"{PREFIX}/"),
        ("/runs/flow-run/x?tab=logs", f"{PREFIX}/runs/flow-run/x?tab=logs"),
        ("/users", "/users"),
        ("/login?next=%2Fruns", "/login?next=%2Fruns"),
        ("/workspaces", "/workspaces"),
        ("/ui-static/baton.css?v=1", "/ui-static/baton.css?v=1"),
        ("/api/flows/", "/api/flows/"),
        ("//evil.example/runs", "//evil.example/runs"),
        ("https://example.com/runs", "https://example.com/runs"),
        ("?page=2", "?page=2"),
    ],
)
def test_in_workspace_prefixes_workspace_pages_only(url: str, expected: str) -> None:
    assert in_workspace(PREFIX, url) == expected
    assert in_workspace("", url) == url


@pytest.mark.parametrize(
    "url",
    [
        "/runs",
        "/",
        "/?page=2",
        "/#top",
        "/runs/flow-run/x?tab=logs",
        "/users",
        "/users/",
        "/users?next=/runs",
        "/users#me",
        "/usersx",
        "/settings-old",
        "/login?next=%2Fruns",
        "/workspaces",
        "/workspaces/switch?section=%2Fruns",
        "/ui-static/baton.css?v=1",
        "/api/flows/",
        "//evil.example/runs",
        "/\\evil.example/runs",
        "https://example.com/runs",
        "?page=2",
    ],
)
@pytest.mark.parametrize("attribute", ["href", "src", "action", "formaction", "data-then", "data-stream-url"])
def test_prefix_workspace_urls_follows_in_workspace(url: str, attribute: str) -> None:
    """The page's one-pass rewrite (a regular expression) and `in_workspace` agree on every kind of address."""
    for before, quote in ((" ", '"'), ("\n", "'"), ("\t", '"')):
        html = f"<a{before}{attribute}={quote}{url}{quote} title={quote}/runs{quote}>"
        expected = f"<a{before}{attribute}={quote}{in_workspace(PREFIX, url)}{quote} title={quote}/runs{quote}>"
        assert prefix_workspace_urls(PREFIX, html) == expected


def test_prefix_workspace_urls_touches_addresses_of_workspace_pages_only() -> None:
    html = (
        '<a href="/runs">Runs</a> <a href="/users">Users</a> <form action="/search" method="get"></form>'
        ' <div data-then="/flows" data-api-path="/flows/1"></div> <img src="/ui-static/x.png" alt="">'
        ' <a data-workspace-link href="/runs">Default</a> <p>see /runs and href=&quot;/runs&quot; in text</p>'
        ' <a title="data-workspace-link" href="/flows">Named so</a>'
    )
    assert prefix_workspace_urls(PREFIX, html) == (
        f'<a href="{PREFIX}/runs">Runs</a> <a href="/users">Users</a> <form action="{PREFIX}/search" method="get">'
        f'</form> <div data-then="{PREFIX}/flows" data-api-path="/flows/1"></div> <img src="/ui-static/x.png" alt="">'
        ' <a data-workspace-link href="/runs">Default</a> <p>see /runs and href=&quot;/runs&quot; in text</p>'
        f' <a title="data-workspace-link" href="{PREFIX}/flows">Named so</a>'
    )
    assert prefix_workspace_urls("", html) == html


@pytest.mark.parametrize(
    ("path", "section"),
    [
        ("/", "/"),
        ("/runs", "/runs"),
        ("/task-runs", "/task-runs"),
        ("/runs/flow-run/abc", "/runs"),
        ("/flows/abc", "/flows"),
        ("/users", "/runs"),
        ("/search", "/runs"),
    ],
)
def test_switching_workspaces_leads_to_the_same_list_page(path: str, section: str) -> None:
    assert section_path(path) == section


def test_api_base() -> None:
    assert api_base(None) == "/api"
    assert api_base(uuid.UUID(WORKSPACE)) == f"/api/accounts/{DEFAULT_ACCOUNT_ID}/workspaces/{WORKSPACE}"


@pytest.mark.parametrize(
    ("uri", "path", "uri_after"),
    [
        (f"{PREFIX}/runs?state=FAILED", "/runs", "/runs?state=FAILED"),
        (PREFIX, "/", "/"),
        (f"{PREFIX}/", "/", "/"),
        (f"{PREFIX}/runs/flow-run/abc", "/runs/flow-run/abc", "/runs/flow-run/abc"),
    ],
)
def test_a_workspace_page_is_routed_as_its_own_path(uri: str, path: str, uri_after: str) -> None:
    request = HTTPServerRequest(start_line=RequestStartLine("GET", uri, "HTTP/1.0"))
    route_to_workspace_page(request)
    assert (request.path, request.uri) == (path, uri_after)
    assert workspace_of(request) == WorkspaceReference(str(DEFAULT_ACCOUNT_ID), WORKSPACE)


@pytest.mark.parametrize(
    "uri",
    ["/workspaces", "/workspaces/", "/workspaces/team-a/runs", f"{PREFIX}/api/flows/", f"{PREFIX}/ui-static/x.css"],
)
def test_other_paths_are_left_alone(uri: str) -> None:
    request = HTTPServerRequest(start_line=RequestStartLine("GET", uri, "HTTP/1.0"))
    route_to_workspace_page(request)
    assert request.path == uri.split("?")[0]
    assert workspace_of(request) is None


def test_the_global_api_segments_are_the_global_api_modules() -> None:
    from baton.server.app import GLOBAL_API_MODULES
    from baton.webui.workspace_scope import GLOBAL_API_SEGMENTS

    assert GLOBAL_API_SEGMENTS == GLOBAL_API_MODULES


def test_the_switcher_keeps_the_current_workspace_among_its_entries() -> None:
    choices = [DEFAULT_CHOICE, *(WorkspaceChoice(uuid.uuid4(), f"w{n:02d}") for n in range(20))]
    assert switcher_entries(choices, None) == choices[:SWITCHER_ENTRIES]
    assert switcher_entries(choices, choices[3].id) == choices[:SWITCHER_ENTRIES]
    later = switcher_entries(choices, choices[15].id)
    assert later == [*choices[: SWITCHER_ENTRIES - 1], choices[15]]
    assert switcher_entries(choices[:3], choices[2].id) == choices[:3]
    assert switch_page_url("/flows") == "/workspaces/switch?section=%2Fflows"
