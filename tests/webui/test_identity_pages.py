"""Identity in a real browser with authentication on: sign in and out, what a viewer may not see or press, an admin
making a service account whose key is shown once, and the audit page naming who did each of those things."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.databases import TemplateDatabases
from tests.webui.auth_server import USERS, admin_headers, auth_ui_server, sign_in
from tests.webui.conftest import UiServer

SECRET = "viewer-must-never-see-this-hunter2"


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


@pytest.fixture(scope="module")
def secret_block(admin_api: httpx.Client) -> str:
    """The id of a `secret` block holding SECRET, made through the API by the bootstrap admin."""
    answer = admin_api.get("/block_types/slug/secret")
    assert answer.status_code == 200, answer.text
    block_type = answer.json()
    schemas = admin_api.post(
        "/block_schemas/filter", json={"block_schemas": {"block_type_id": {"any_": [block_type["id"]]}}}
    ).json()
    created = admin_api.post(
        "/block_documents/",
        json={
            "name": "db-password",
            "block_type_id": block_type["id"],
            "block_schema_id": schemas[0]["id"],
            "data": {"value": SECRET},
        },
    )
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


def _session_cookie(page: Any) -> dict[str, Any] | None:
    return next((cookie for cookie in page.context.cookies() if cookie["name"] == "baton_session"), None)


def test_sign_in_refuses_a_wrong_password_and_lands_on_the_next_page(page: Any, ui_server: UiServer) -> None:
    page.goto(ui_server.url + "/variables")
    page.wait_for_url(re.compile(r"/login\?next=%2Fvariables$"))
    assert page.locator("nav.sidebar a[href='/runs']").count() == 0  # nothing but the form before signing in

    page.fill("#sign-in-name", "alice")
    page.fill("#sign-in-password", "not-her-password")
    page.click("#sign-in-form button[type=submit]")
    assert page.locator("#sign-in-error").inner_text() == "The user name or password is not valid."
    page.browser_errors.expect("status of 401")
    assert page.input_value("#sign-in-name") == "alice"
    assert _session_cookie(page) is None

    page.fill("#sign-in-password", USERS["alice"][1])
    page.click("#sign-in-form button[type=submit]")
    page.wait_for_url(ui_server.url + "/variables")
    assert page.inner_text("#signed-in-name") == "alice"
    assert page.inner_text("#signed-in-role") == "admin"
    cookie = _session_cookie(page)
    assert cookie is not None and cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    csrf = page.get_attribute('meta[name="csrf-token"]', "content")
    assert csrf and len(csrf) >= 20
    # An admin sees the identity pages in the sidebar.
    for path in ("/users", "/service-accounts", "/roles", "/audit"):
        assert page.locator(f"nav.sidebar a[href='{path}']").count() == 1


def test_sign_out_ends_the_session(page: Any, ui_server: UiServer) -> None:
    sign_in(page, ui_server, "alice", "/runs")
    token = _session_cookie(page)["value"]  # type: ignore[index]
    page.click("#sign-out")
    page.wait_for_url(re.compile(r"/login$"))
    assert _session_cookie(page) is None
    page.goto(ui_server.url + "/runs")
    page.wait_for_url(re.compile(r"/login\?next=%2Fruns$"))
    # The session is revoked on the server, not only forgotten by the browser.
    answer = httpx.get(ui_server.api_url + "/me", cookies={"baton_session": token})
    assert answer.status_code == 401


def test_a_viewer_sees_no_secret_and_cannot_press_write_buttons(
    page: Any, ui_server: UiServer, secret_block: str, admin_api: httpx.Client
) -> None:
    admin_api.post("/variables/", json={"name": "region", "value": "eu"}).raise_for_status()
    sign_in(page, ui_server, "victor", f"/blocks/{secret_block}")
    assert SECRET not in page.content()
    assert "********" in page.inner_text("#block-fields")
    delete = page.locator("#delete-block")
    assert delete.is_disabled()
    assert "block:write" in (delete.get_attribute("title") or "")
    assert page.locator(f"a[href='/blocks/{secret_block}/edit']").count() == 0

    page.goto(ui_server.url + "/variables")
    assert page.locator("text=New variable").count() == 0
    row_delete = page.locator('#variables tr[data-name="region"] button')
    assert row_delete.is_disabled()
    assert "variable:write" in (row_delete.get_attribute("title") or "")
    for path in ("/users", "/service-accounts", "/roles", "/audit"):
        assert page.locator(f"nav.sidebar a[href='{path}']").count() == 0
    assert page.inner_text("#signed-in-role") == "viewer"

    # The server refuses anyway: a write with the viewer's cookie but no CSRF token, and one with the token.
    forged = page.request.post(ui_server.api_url + "/variables/", data={"name": "forged", "value": 1})
    assert forged.status == 403
    assert "CSRF" in forged.json()["detail"]
    csrf = page.get_attribute('meta[name="csrf-token"]', "content")
    with_token = page.request.post(
        ui_server.api_url + "/variables/", data={"name": "forged", "value": 1}, headers={"X-CSRF-Token": csrf}
    )
    assert with_token.status == 403
    assert "variable:write" in with_token.json()["detail"]
    secrets = page.request.get(f"{ui_server.api_url}/block_documents/{secret_block}?include_secrets=true")
    assert secrets.status == 403
    assert admin_api.get("/variables/name/forged").status_code == 404
    page.goto(ui_server.url + "/users")
    assert "user:read" in page.inner_text("main")
    assert page.inner_text("#signed-in-name") == "victor"  # the error page keeps the viewer's sidebar
    assert page.locator("nav.sidebar a[href='/runs']").count() == 1
    page.browser_errors.expect("status of 403")


def test_an_admin_creates_a_service_account_and_sees_its_key_once(
    page: Any, ui_server: UiServer, admin_api: httpx.Client
) -> None:
    sign_in(page, ui_server, "alice", "/service-accounts")
    page.fill("#service-account-name", "ci-deployer")
    page.select_option("#service-account-role", "developer")
    page.click("#new-service-account-form button[type=submit]")
    key_box = page.locator("#new-key")
    key_box.wait_for(state="visible")
    key = page.inner_text("#new-key-value")
    assert key.startswith("baton_")
    assert "shown only once" in key_box.inner_text()
    # The key works for the Prefect client's header, with the role chosen.
    me = httpx.get(ui_server.api_url + "/me", headers={"Authorization": f"Bearer {key}"}).json()
    assert (me["name"], me["role"], me["kind"]) == ("ci-deployer", "developer", "service_account")

    page.reload()
    row = page.locator('#service-accounts tr[data-name="ci-deployer"]')
    assert row.count() == 1
    assert key not in page.content()
    prefix = row.locator(".key-prefixes code").inner_text().rstrip("…")
    assert len(prefix) >= 8 and key.startswith(prefix)
    assert row.locator("select[name=role]").input_value() == "developer"

    # Rotating shows the new key once; the old one stops working.
    row.locator("text=Rotate key").click()
    page.click("#confirm-ok")
    page.locator("#new-key").wait_for(state="visible")
    new_key = page.inner_text("#new-key-value")
    assert new_key.startswith("baton_") and new_key != key
    assert httpx.get(ui_server.api_url + "/me", headers={"Authorization": f"Bearer {key}"}).status_code == 401
    assert httpx.get(ui_server.api_url + "/me", headers={"Authorization": f"Bearer {new_key}"}).status_code == 200


def test_an_admin_manages_users(page: Any, ui_server: UiServer, admin_api: httpx.Client) -> None:
    sign_in(page, ui_server, "alice", "/users")
    page.fill("#user-name", "bob")
    page.select_option("#user-role", "viewer")
    page.fill("#user-password", "short")
    page.click("#new-user-form button[type=submit]")
    # The API's 422 arrives after the click returns: wait for its message next to the form.
    page.locator('#new-user-form [data-error-for="_form"]', has_text="at least").wait_for()
    page.browser_errors.expect("status of 422")
    page.fill("#user-password", "bob-password-1")
    page.click("#new-user-form button[type=submit]")
    row = page.locator('#users tr[data-name="bob"]')
    row.wait_for()
    bob_id = row.get_attribute("data-id")

    row.locator("select[name=role]").select_option("operator")
    row.locator("text=Set role").click()
    page.locator('#users tr[data-name="bob"] select[name=role] option[value="operator"][selected]').wait_for(
        state="attached"
    )
    assert admin_api.get(f"/users/{bob_id}").json()["role"] == "operator"

    page.locator('#users tr[data-name="bob"] button:text-is("Disable")').click()
    page.click("#confirm-ok")
    page.locator('#users tr[data-name="bob"] button:text-is("Enable")').wait_for()
    assert admin_api.get(f"/users/{bob_id}").json()["disabled"] is True
    page.locator('#users tr[data-name="bob"] button:text-is("Enable")').click()
    page.locator('#users tr[data-name="bob"] button:text-is("Disable")').wait_for()
    assert admin_api.get(f"/users/{bob_id}").json()["disabled"] is False

    reset = page.locator('#users tr[data-name="bob"] details.reset-password')
    reset.locator("summary").click()
    reset.locator("input[name=password]").fill("bob-new-password")
    reset.locator("button[type=submit]").click()
    page.locator("#flash").wait_for()
    assert "was reset" in page.inner_text("#flash")
    login = httpx.post(
        ui_server.url + "/login", data={"name": "bob", "password": "bob-new-password"}, follow_redirects=False
    )
    assert login.status_code == 302

    # A developer may not manage users: the page is not in the sidebar and answers 403.
    page.context.clear_cookies()
    sign_in(page, ui_server, "dora", "/")
    assert page.locator("nav.sidebar a[href='/users']").count() == 0
    assert page.goto(ui_server.url + "/users").status == 403
    page.browser_errors.expect("status of 403")


def test_custom_roles_are_made_and_changed_with_the_permission_grid(
    page: Any, ui_server: UiServer, admin_api: httpx.Client
) -> None:
    sign_in(page, ui_server, "alice", "/roles")
    assert page.locator('#built-in-roles tr[data-role="viewer"]').count() == 1
    grid = page.locator("#permission-grid")
    # Rows are resources, columns verbs; a verb a resource lacks has no box.
    assert grid.locator('tr[data-resource="audit"] input').count() == 1
    assert grid.locator('tr[data-resource="block"] input').count() == 3
    page.fill("#role-name", "auditor")
    page.fill("#role-description", "Reads the audit log")
    page.check('#permission-grid input[value="audit:read"]')
    page.check('#permission-grid input[value="flow_run:read"]')
    page.click("#role-form button[type=submit]")
    page.locator('#custom-roles tr[data-role="auditor"]').wait_for()
    roles = {role["name"]: role for role in admin_api.get("/roles/").json()}
    assert sorted(roles["auditor"]["permissions"]) == ["audit:read", "flow_run:read"]
    assert roles["auditor"]["built_in"] is False

    page.locator('#custom-roles tr[data-role="auditor"]').locator("text=Edit").click()
    page.wait_for_url(re.compile(r"/roles\?edit=auditor"))
    assert page.is_checked('#permission-grid input[value="audit:read"]')
    page.uncheck('#permission-grid input[value="flow_run:read"]')
    page.check('#permission-grid input[value="user:read"]')
    page.click("#role-form button[type=submit]")
    page.wait_for_url(re.compile(r"/roles$"))
    roles = {role["name"]: role for role in admin_api.get("/roles/").json()}
    assert sorted(roles["auditor"]["permissions"]) == ["audit:read", "user:read"]

    page.locator('#custom-roles tr[data-role="auditor"]').locator("text=Delete").click()
    page.click("#confirm-ok")
    page.locator("text=No custom roles yet.").wait_for()
    assert "auditor" not in {role["name"] for role in admin_api.get("/roles/").json()}


def test_my_account_changes_my_password_and_holds_my_keys(page: Any, ui_server: UiServer) -> None:
    sign_in(page, ui_server, "dora", "/account")
    assert page.inner_text("#account-role") == "developer"
    page.fill("#key-name", "laptop")
    page.click("#new-key-form button[type=submit]")
    page.locator("#new-key").wait_for(state="visible")
    key = page.inner_text("#new-key-value")
    me = httpx.get(ui_server.api_url + "/me", headers={"Authorization": f"Bearer {key}"}).json()
    assert (me["name"], me["role"]) == ("dora", "developer")
    page.click("#key-done")
    row = page.locator('#api-keys tr[data-key-name="laptop"]')
    row.wait_for()
    assert key not in page.content()
    row.locator("text=Revoke").click()
    page.click("#confirm-ok")
    page.locator("#no-api-keys").wait_for()
    assert httpx.get(ui_server.api_url + "/me", headers={"Authorization": f"Bearer {key}"}).status_code == 401

    page.fill("#current-password", USERS["dora"][1])
    page.fill("#new-password", "dora-password-2")
    page.fill("#confirm-password", "dora-password-3")
    page.click("#password-form button[type=submit]")
    assert "differ" in page.inner_text('[data-error-for="confirm_password"]')
    page.fill("#confirm-password", "dora-password-2")
    page.click("#password-form button[type=submit]")
    page.locator("#flash").wait_for()
    assert "password was changed" in page.inner_text("#flash")
    # This session goes on; the new password signs in, the old one no longer does.
    assert page.goto(ui_server.url + "/account").status == 200
    old = httpx.post(ui_server.url + "/login", data={"name": "dora", "password": USERS["dora"][1]})
    assert old.status_code == 401
    new = httpx.post(
        ui_server.url + "/login", data={"name": "dora", "password": "dora-password-2"}, follow_redirects=False
    )
    assert new.status_code == 302


def test_the_audit_page_shows_each_action_with_its_actor(page: Any, ui_server: UiServer) -> None:
    # Runs after the tests above in this module (pytest keeps file order): their actions are in the log.
    sign_in(page, ui_server, "alice", "/audit")
    rows = page.locator("#audit-entries tbody tr")
    seen = {
        (
            rows.nth(i).get_attribute("data-actor"),
            rows.nth(i).get_attribute("data-action"),
            rows.nth(i).get_attribute("data-outcome"),
        )
        for i in range(rows.count())
    }
    assert ("alice", "auth.sign_in", "failure") in seen
    assert ("alice", "auth.sign_in", "success") in seen
    assert ("alice", "auth.sign_out", "success") in seen
    assert ("victor", "auth.sign_in", "success") in seen
    assert ("victor", "variable.create", "denied") in seen
    assert ("alice", "service_account.create", "success") in seen
    assert ("alice", "api_key.rotate", "success") in seen
    assert ("alice", "user.create", "success") in seen
    assert ("alice", "role.create", "success") in seen
    assert ("dora", "api_key.create", "success") in seen
    assert ("dora", "user.change_password", "success") in seen

    page.fill("#audit-actor", "victor")
    page.click("#audit-filters button[type=submit]")
    page.wait_for_url(re.compile(r"actor_name=victor"))
    actors = set(page.locator("#audit-entries tbody tr").evaluate_all("rows => rows.map(r => r.dataset.actor)"))
    assert actors == {"victor"}
    export = page.get_attribute("#audit-export", "href")
    assert export is not None and export.startswith("/api/audit/export?") and "actor_name=victor" in export
    lines = page.request.get(ui_server.url + export).text().strip().splitlines()
    assert lines and len(lines) == page.locator("#audit-entries tbody tr").count()
    assert all(json.loads(line)["actor_name"] == "victor" for line in lines)

    page.goto(ui_server.url + "/audit")
    page.fill("#audit-resource-kind", "api_key")
    page.click("#audit-filters button[type=submit]")
    page.wait_for_url(re.compile(r"resource_kind=api_key"))
    kinds = page.locator("#audit-entries tbody tr").evaluate_all("rows => rows.map(r => r.dataset.resourceKind)")
    assert kinds and set(kinds) == {"api_key"}

    page.goto(ui_server.url + "/audit?occurred_after=2999-01-01T00:00")
    assert "No entries match these filters." in page.inner_text("main")
    assert page.locator("#audit-after").input_value() == "2999-01-01T00:00"
