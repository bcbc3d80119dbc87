"""Workspaces in a real browser with authentication on: an admin makes, renames and deletes a workspace and gives a
user a role in it; the switcher leads into the workspace, whose pages carry it in their URL and show its runs only;
a user with no role there gets the same 404 as for a workspace that does not exist."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from baton.server.workspaces import DEFAULT_ACCOUNT_ID
from baton.webui.workspace_scope import SWITCHER_ENTRIES
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
def admin_api(ui_server: UiServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=ui_server.api_url, headers=admin_headers(), timeout=10.0) as client:
        yield client


def workspace_api(server: UiServer, workspace_id: str) -> httpx.Client:
    return httpx.Client(
        base_url=f"{server.api_url}/accounts/{DEFAULT_ACCOUNT_ID}/workspaces/{workspace_id}",
        headers=admin_headers(),
        timeout=10.0,
    )


def create_run(api: httpx.Client, flow_name: str, run_name: str) -> str:
    flow_id = api.post("/flows/", json={"name": flow_name}).raise_for_status().json()["id"]
    run = api.post("/flow_runs/", json={"flow_id": flow_id, "name": run_name}).raise_for_status().json()
    return str(run["id"])


def user_id(admin_api: httpx.Client, name: str) -> str:
    users = admin_api.post("/users/filter", json={"name_like": name}).raise_for_status().json()
    return str(next(user["id"] for user in users if user["name"] == name))


def run_names(page: Any) -> set[str]:
    return set(page.locator("table.run-table tbody tr").evaluate_all("rows => rows.map(row => row.dataset.runName)"))


@pytest.mark.both_databases
def test_an_admin_makes_a_workspace_works_in_it_and_deletes_it(
    page: Any, ui_server: UiServer, admin_api: httpx.Client
) -> None:
    create_run(admin_api, "default-flow", "run-in-default")
    sign_in(page, ui_server, "alice", "/workspaces")

    page.fill("#workspace-name", "team-a")
    page.click("#new-workspace-form button[type=submit]")
    page.wait_for_url(re.compile(r"/workspace-settings/[0-9a-f-]{36}$"))
    workspace_id = page.url.rsplit("/", 1)[1]
    assert admin_api.get(f"/workspaces/{workspace_id}").json()["name"] == "team-a"

    page.fill("#workspace-name", "team-alpha")
    page.click("#rename-workspace-form button[type=submit]")
    page.wait_for_selector("h1:has-text('Workspace team-alpha')")
    assert admin_api.get(f"/workspaces/{workspace_id}").json()["name"] == "team-alpha"

    page.select_option("#member-account", label="dora")
    page.select_option("#member-role", "developer")
    page.click("#add-member-form button[type=submit]")
    page.wait_for_selector("#workspace-members tr[data-name='dora']")
    assert page.input_value("#workspace-members tr[data-name='dora'] select") == "developer"
    members = admin_api.get(f"/workspaces/{workspace_id}/members").json()
    assert [(member["member_id"], member["role"]) for member in members] == [(user_id(admin_api, "dora"), "developer")]

    with workspace_api(ui_server, workspace_id) as api:
        run_id = create_run(api, "workspace-flow", "run-in-workspace")

    # The switcher, from the default workspace's runs page, leads to the same page in the workspace.
    page.goto(ui_server.url + "/runs")
    assert page.inner_text("#current-workspace") == "Default workspace"
    assert run_names(page) == {"run-in-default"}
    page.click("#workspace-switcher summary")
    page.click("#workspace-switcher a:has-text('team-alpha')")
    page.wait_for_url(f"{ui_server.url}/workspaces/{workspace_id}/runs")
    assert page.inner_text("#current-workspace") == "team-alpha"
    assert run_names(page) == {"run-in-workspace"}
    flows_link = page.get_attribute("nav.sidebar a:has-text('Flows')", "href")
    assert flows_link == f"/workspaces/{workspace_id}/flows"
    assert page.get_attribute("nav.sidebar a:has-text('Users')", "href") == "/users"  # global pages stay global
    assert (
        page.get_attribute("body", "data-api-base") == f"/api/accounts/{DEFAULT_ACCOUNT_ID}/workspaces/{workspace_id}"
    )

    page.click("a.run-name:has-text('run-in-workspace')")
    page.wait_for_url(f"{ui_server.url}/workspaces/{workspace_id}/runs/flow-run/{run_id}")
    assert "run-in-workspace" in page.inner_text("h1")
    # The default workspace has no such run.
    assert page.request.get(f"{ui_server.url}/runs/flow-run/{run_id}").status == 404

    page.goto(f"{ui_server.url}/workspace-settings/{workspace_id}")
    page.select_option("#workspace-members tr[data-name='dora'] select", "viewer")
    with page.expect_navigation():  # the page reloads once the role is set
        page.click("#workspace-members tr[data-name='dora'] button[type=submit]")
    assert page.input_value("#workspace-members tr[data-name='dora'] select") == "viewer"
    assert admin_api.get(f"/workspaces/{workspace_id}/members").json()[0]["role"] == "viewer"
    page.click("#workspace-members tr[data-name='dora'] button:has-text('Remove')")
    page.click("#confirm-ok")
    page.wait_for_selector("#workspace-members", state="detached")
    assert admin_api.get(f"/workspaces/{workspace_id}/members").json() == []

    page.fill("#delete-confirm-name", "team-a")
    page.click("#delete-workspace")
    assert page.inner_text("[data-error-for='confirm_name']") == "Type the workspace's name exactly to delete it."
    assert admin_api.get(f"/workspaces/{workspace_id}").status_code == 200

    page.fill("#delete-confirm-name", "team-alpha")
    page.click("#delete-workspace")
    page.wait_for_url(f"{ui_server.url}/workspaces")
    assert page.locator(f"tr[data-id='{workspace_id}']").count() == 0
    assert admin_api.get(f"/workspaces/{workspace_id}").status_code == 404
    assert page.goto(f"{ui_server.url}/workspaces/{workspace_id}/runs").status == 404
    page.browser_errors.expect("404")


def test_a_member_sees_its_workspaces_and_others_get_the_same_404(
    page: Any, ui_server: UiServer, admin_api: httpx.Client
) -> None:
    ours = admin_api.post("/workspaces/", json={"name": "dora-team"}).raise_for_status().json()["id"]
    theirs = admin_api.post("/workspaces/", json={"name": "hidden-team"}).raise_for_status().json()["id"]
    admin_api.put(
        f"/workspaces/{ours}/members/{user_id(admin_api, 'dora')}", json={"role": "viewer"}
    ).raise_for_status()

    sign_in(page, ui_server, "dora", f"/workspaces/{ours}/flows")
    # Her role in this workspace is viewer (developer elsewhere): the page says so.
    assert page.inner_text("#signed-in-role") == "viewer"
    # The switcher works from the keyboard: open it, and its links are the next stops.
    page.focus("#workspace-switcher summary")
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Default workspace"
    offered = page.locator("#workspace-switcher li a").all_inner_texts()
    assert offered == ["Default workspace", "dora-team"]
    assert page.get_attribute("#workspace-switcher a:has-text('Default workspace')", "href") == "/flows"
    assert page.locator("nav.sidebar a:has-text('Workspaces')").count() == 0

    absent = str(uuid.uuid4())
    no_role = page.goto(f"{ui_server.url}/workspaces/{theirs}/runs")
    assert no_role is not None and no_role.status == 404
    no_role_text = page.inner_text("main").replace(theirs, "ID")
    missing = page.goto(f"{ui_server.url}/workspaces/{absent}/runs")
    assert missing is not None and missing.status == 404
    assert page.inner_text("main").replace(absent, "ID") == no_role_text
    assert "Workspace ID not found" in no_role_text
    # A global page has no address in a workspace, and the admin page is an admin's.
    assert page.goto(f"{ui_server.url}/workspaces/{ours}/users").status == 404
    assert page.goto(f"{ui_server.url}/workspaces").status == 403
    # A page her viewer role there may not open: the refusal's page keeps its links in the workspace.
    refused = page.goto(f"{ui_server.url}/workspaces/{ours}/variables/new")
    assert refused is not None and refused.status == 403
    assert page.get_attribute("nav.sidebar a:has-text('Flows')", "href") == f"/workspaces/{ours}/flows"
    page.browser_errors.expect("404")
    page.browser_errors.expect("403")


def test_the_switcher_shows_a_few_workspaces_and_the_switch_page_lists_them_all(
    page: Any, ui_server: UiServer, admin_api: httpx.Client
) -> None:
    dora = user_id(admin_api, "dora")
    crews = {}
    for number in range(1, 10):
        name = f"crew-{number:02d}"
        crews[name] = admin_api.post("/workspaces/", json={"name": name}).raise_for_status().json()["id"]
        admin_api.put(f"/workspaces/{crews[name]}/members/{dora}", json={"role": "viewer"}).raise_for_status()

    sign_in(page, ui_server, "dora", f"/workspaces/{crews['crew-09']}/flows")
    page.click("#workspace-switcher summary")
    offered = page.locator("#workspace-switcher li a[data-workspace-link]").all_inner_texts()
    assert len(offered) == SWITCHER_ENTRIES
    assert offered[0] == "Default workspace"
    assert offered[-1] == "crew-09", "the current workspace is shown even past the first entries"
    everything = page.inner_text("#all-workspaces")
    counted = re.fullmatch(r"All workspaces \((\d+)\)", everything)
    assert counted is not None and int(counted.group(1)) >= 10

    page.click("#all-workspaces")
    page.wait_for_url(re.compile(r"/workspaces/switch\?section=%2Fflows$"))
    listed = page.locator("#workspace-choices a").all_inner_texts()
    assert len(listed) == int(counted.group(1))
    assert set(crews) <= set(listed)
    page.click("#workspace-choices a:has-text('crew-03')")
    page.wait_for_url(f"{ui_server.url}/workspaces/{crews['crew-03']}/flows")
    assert page.inner_text("#current-workspace") == "crew-03"
    # A section that is no sidebar page leads to the runs page, not where the query says.
    page.goto(f"{ui_server.url}/workspaces/switch?section=//evil.example/")
    assert page.get_attribute("#workspace-choices a:has-text('crew-03')", "href") == (
        f"/workspaces/{crews['crew-03']}/runs"
    )
