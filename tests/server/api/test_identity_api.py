"""The identity API (/me, /users, /service_accounts, /roles, /audit) with authentication on, over real HTTP on SQLite
and PostgreSQL. The first admin is the bootstrap service account, made as `baton server start` makes it."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from baton.server.auth import credentials, direct, identity
from baton.server.database.engine import Database
from baton.server.models.identity import accounts
from baton.settings import Settings

ADMIN_KEY = "baton_" + "a" * 40
PASSWORD = "correct horse battery"


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(home=tmp_path, api_database_connection_url=database_url, auth_enabled=True)


@pytest.fixture
async def api(base_url: str, database: Database) -> AsyncIterator[Callable[[str | None], httpx.AsyncClient]]:
    """Clients of the API, one per key (None: no credential); the bootstrap admin holds ADMIN_KEY."""
    assert await direct.bootstrap_admin(database, ADMIN_KEY)
    opened: list[httpx.AsyncClient] = []

    def client_for(key: str | None, **headers: str) -> httpx.AsyncClient:
        if key is not None:
            headers["Authorization"] = f"Bearer {key}"
        client = httpx.AsyncClient(base_url=f"{base_url}/api", headers=headers, timeout=30)
        opened.append(client)
        return client

    yield client_for
    for client in opened:
        await client.aclose()


@pytest.fixture
def admin(api: Callable[..., httpx.AsyncClient]) -> httpx.AsyncClient:
    return api(ADMIN_KEY)


async def _ok(call: Awaitable[httpx.Response], status: int = 200) -> Any:
    response = await call
    assert response.status_code == status, response.text
    return response.json() if response.content else None


async def _status_within(client: httpx.AsyncClient, path: str, status: int, seconds: float = 1.0) -> float:
    """How long it took `GET path` to answer `status` (fails if it did not within `seconds`)."""
    started = time.monotonic()
    while True:
        answered = (await client.get(path)).status_code
        elapsed = time.monotonic() - started
        if answered == status:
            return elapsed
        assert elapsed < seconds, f"GET {path} still answers {answered} after {elapsed:.2f} s"
        await asyncio.sleep(0.05)


async def _audit(admin: httpx.AsyncClient, **condition: Any) -> list[dict[str, Any]]:
    return await _ok(admin.post("/audit/filter", json=condition))


async def test_me_names_the_caller_and_its_permissions(api: Callable[..., httpx.AsyncClient]) -> None:
    assert (await api(None).get("/me")).status_code == 401
    assert (await api("baton_not-a-key").get("/me")).status_code == 401
    me = await _ok(api(ADMIN_KEY).get("/me"))
    assert me["kind"] == "service_account" and me["name"] == identity.BOOTSTRAP_ADMIN_NAME
    assert me["role"] == "admin" and me["auth_enabled"] is True
    assert "audit:read" in me["permissions"] and "user:write" in me["permissions"]


async def test_service_account_key_rotate_disable_delete(
    admin: httpx.AsyncClient, api: Callable[..., httpx.AsyncClient]
) -> None:
    created = await _ok(admin.post("/service_accounts/", json={"name": "ci", "role": "viewer"}), 201)
    key = created["api_key"]
    assert key.startswith("baton_") and created["role"] == "viewer" and not created["disabled"]
    assert [row["prefix"] for row in created["api_keys"]] == [key[:12]]
    assert "key_hash" not in json.dumps(created)
    robot = api(key)
    me = await _ok(robot.get("/me"))
    assert (me["kind"], me["name"], me["role"]) == ("service_account", "ci", "viewer")
    # Listed and read with key prefixes only.
    listed = await _ok(admin.post("/service_accounts/filter", json={"name_like": "c"}))
    assert [row["name"] for row in listed] == ["ci"]
    assert key not in json.dumps(listed)
    read = await _ok(admin.get(f"/service_accounts/{created['id']}"))
    assert read["api_keys"][0]["prefix"] == key[:12] and "api_key" not in read

    rotated = await _ok(admin.post(f"/service_accounts/{created['id']}/rotate_key"))
    new_key = rotated["api_key"]
    assert new_key != key
    assert await _status_within(robot, "/me", 401) < 1.0
    assert (await _ok(api(new_key).get("/me")))["name"] == "ci"
    assert [row["revoked_at"] is None for row in rotated["api_keys"]] == [False, True]

    patched = await _ok(admin.patch(f"/service_accounts/{created['id']}", json={"disabled": True}))
    assert patched["disabled"] is True
    await _status_within(api(new_key), "/me", 401)
    await _ok(admin.patch(f"/service_accounts/{created['id']}", json={"disabled": False, "role": "operator"}))
    assert (await _ok(api(new_key).get("/me")))["role"] == "operator"

    await _ok(admin.delete(f"/service_accounts/{created['id']}"), 204)
    assert (await admin.get(f"/service_accounts/{created['id']}")).status_code == 404
    await _status_within(api(new_key), "/me", 401)

    actions = [
        (row["action"], row["actor_name"], row["resource_name"])
        for row in await _audit(admin, resource_kind="service_account")
    ]
    admin_name = identity.BOOTSTRAP_ADMIN_NAME
    for action in (
        "service_account.create",
        "api_key.rotate",
        "service_account.disable",
        "service_account.enable",
        "service_account.set_role",
        "service_account.delete",
    ):
        assert (action, admin_name, "ci") in actions, action
    everything = json.dumps(await _audit(admin, limit=200))
    assert key not in everything and new_key not in everything


async def test_service_account_expiry_and_validation(admin: httpx.AsyncClient) -> None:
    past = await admin.post(
        "/service_accounts/", json={"name": "old", "role": "viewer", "expires_at": "2001-01-01T00:00:00"}
    )
    assert past.status_code == 422 and "future" in past.json()["detail"]
    bad_role = await admin.post("/service_accounts/", json={"name": "x", "role": "wizard"})
    assert bad_role.status_code == 422 and "wizard" in bad_role.json()["detail"]
    await _ok(admin.post("/service_accounts/", json={"name": "dup", "role": "viewer"}), 201)
    assert (await admin.post("/service_accounts/", json={"name": "dup", "role": "viewer"})).status_code == 409


async def test_the_last_admin_cannot_be_demoted_disabled_or_deleted(
    admin: httpx.AsyncClient, database: Database
) -> None:
    me = await _ok(admin.get("/me"))
    target = f"/service_accounts/{me['id']}"
    for change in ({"role": "viewer"}, {"disabled": True}):
        refused = await admin.patch(target, json=change)
        assert refused.status_code == 403, refused.text
        assert "last enabled admin" in refused.json()["detail"]
    assert (await admin.delete(target)).status_code == 403
    async with database.read() as connection:
        assert await accounts.count_active_admins(connection) == 1
    # With a second admin, the first may step down.
    await _ok(admin.post("/users/", json={"name": "root", "role": "admin", "password": PASSWORD}), 201)
    await _ok(admin.patch(target, json={"role": "developer"}))
    root = httpx.AsyncClient(base_url=str(admin.base_url), auth=httpx.BasicAuth("root", PASSWORD))
    async with root:
        refused = await _audit(root, outcome="denied", resource_kind="service_account")
    assert sorted(row["action"] for row in refused) == [
        "service_account.delete",
        "service_account.disable",
        "service_account.set_role",
    ]
    assert {(row["actor_name"], row["status_code"]) for row in refused} == {(identity.BOOTSTRAP_ADMIN_NAME, 403)}


async def test_custom_role_grants_exactly_its_permissions(
    admin: httpx.AsyncClient, api: Callable[..., httpx.AsyncClient]
) -> None:
    unknown = await admin.post("/roles/", json={"name": "auditor", "permissions": ["audit:read", "audit:write"]})
    assert unknown.status_code == 422 and "audit:write" in unknown.json()["detail"]
    assert (await admin.post("/roles/", json={"name": "viewer", "permissions": []})).status_code == 422
    role = await _ok(
        admin.post(
            "/roles/",
            json={"name": "auditor", "description": "Reads the log", "permissions": ["audit:read", "user:read"]},
        ),
        201,
    )
    assert role == {
        "name": "auditor",
        "description": "Reads the log",
        "permissions": ["audit:read", "user:read"],
        "built_in": False,
    }
    names = [row["name"] for row in await _ok(admin.get("/roles/"))]
    assert names == ["admin", "developer", "operator", "viewer", "worker", "auditor"]
    catalogue = await _ok(admin.get("/roles/permissions"))
    assert catalogue["audit"] == ["read"] and "secrets" in catalogue["block"]

    key = (await _ok(admin.post("/service_accounts/", json={"name": "reader", "role": "auditor"}), 201))["api_key"]
    reader = api(key)
    assert sorted((await _ok(reader.get("/me")))["permissions"]) == ["audit:read", "user:read"]
    assert (await reader.post("/audit/filter", json={})).status_code == 200
    assert (await reader.post("/users/filter", json={})).status_code == 200
    assert (await reader.post("/service_accounts/filter", json={})).status_code == 403
    assert (await reader.get("/roles/")).status_code == 403
    assert (await reader.post("/users/", json={"name": "x", "role": "viewer", "password": PASSWORD})).status_code == 403

    # Changing the role changes what its holders may do, at once.
    await _ok(admin.patch("/roles/auditor", json={"permissions": ["role:read"]}))
    await _status_within(reader, "/roles/", 200)
    assert (await reader.post("/audit/filter", json={})).status_code == 403
    # A role someone holds cannot be deleted; a built-in one never.
    assert (await admin.delete("/roles/auditor")).status_code == 403
    assert (await admin.delete("/roles/admin")).status_code == 403
    assert (await admin.patch("/roles/viewer", json={"permissions": []})).status_code == 403
    assert (await admin.delete("/roles/nobody")).status_code == 404
    actions = [row["action"] for row in await _audit(admin, resource_kind="role", outcome="success")]
    assert actions.count("role.create") == 1 and "role.update" in actions


async def test_users_create_validate_and_change(
    admin: httpx.AsyncClient, api: Callable[..., httpx.AsyncClient]
) -> None:
    user = await _ok(admin.post("/users/", json={"name": "ada", "role": "developer", "password": PASSWORD}), 201)
    assert set(user) == {"id", "name", "role", "disabled", "created", "updated", "email", "sso_issuer"}
    assert (user["email"], user["sso_issuer"]) == (None, None)  # a local user (no single sign-on)
    assert (
        await admin.post("/users/", json={"name": "bob", "role": "wizard", "password": PASSWORD})
    ).status_code == 422
    assert (await admin.post("/users/", json={"name": "bob", "role": "viewer", "password": "short"})).status_code == 422
    assert (
        await admin.post("/users/", json={"name": "ada", "role": "viewer", "password": PASSWORD})
    ).status_code == 409
    assert (
        await admin.post("/users/", json={"name": "a/b", "role": "viewer", "password": PASSWORD})
    ).status_code == 422
    assert [row["name"] for row in await _ok(admin.post("/users/filter", json={}))] == ["ada"]

    basic = api(None)
    basic.auth = httpx.BasicAuth("ada", PASSWORD)
    assert (await _ok(basic.get("/me")))["role"] == "developer"
    await _ok(admin.patch(f"/users/{user['id']}", json={"role": "viewer"}))
    await _ok(admin.patch(f"/users/{user['id']}", json={"password": "another password"}))
    await _status_within(basic, "/me", 401)
    basic.auth = httpx.BasicAuth("ada", "another password")
    assert (await _ok(basic.get("/me")))["role"] == "viewer"
    await _ok(admin.patch(f"/users/{user['id']}", json={"disabled": True}))
    await _status_within(basic, "/me", 401)
    await _ok(admin.delete(f"/users/{user['id']}"), 204)
    assert (await admin.get(f"/users/{user['id']}")).status_code == 404

    rows = await _audit(admin, action_prefix="user.")
    found = {(row["action"], row["resource_name"]) for row in rows if row["outcome"] == "success"}
    assert {
        ("user.create", "ada"),
        ("user.set_role", "ada"),
        ("user.reset_password", "ada"),
        ("user.disable", "ada"),
        ("user.delete", "ada"),
    } <= found
    assert {row["actor_name"] for row in rows} == {identity.BOOTSTRAP_ADMIN_NAME}
    everything = json.dumps(await _audit(admin, limit=200))
    assert PASSWORD not in everything and "another password" not in everything


async def test_changing_my_password_ends_my_other_sessions(
    admin: httpx.AsyncClient, api: Callable[..., httpx.AsyncClient], database: Database
) -> None:
    await _ok(admin.post("/users/", json={"name": "eve", "role": "viewer", "password": PASSWORD}), 201)
    async with database.write() as connection:
        account = await accounts.read_account_by_name(connection, "user", "eve")
        assert account is not None
        here, here_token = await identity.start_session(connection, account, hours=1, address=None)
        _, there_token = await identity.start_session(connection, account, hours=1, address=None)
    this = api(None, Cookie=f"baton_session={here_token}", **{"X-CSRF-Token": here["csrf_token"]})
    other = api(None, Cookie=f"baton_session={there_token}")
    assert (await _ok(this.get("/me")))["name"] == "eve"
    assert (await _ok(other.get("/me")))["name"] == "eve"

    wrong = await this.post(
        "/me/password", json={"current_password": "not it at all", "new_password": "a new password"}
    )
    assert wrong.status_code == 422
    short = await this.post("/me/password", json={"current_password": PASSWORD, "new_password": "short"})
    assert short.status_code == 422
    await _ok(this.post("/me/password", json={"current_password": PASSWORD, "new_password": "a new password"}), 204)
    await _status_within(other, "/me", 401)
    assert (await _ok(this.get("/me")))["name"] == "eve"
    # A service account has no password to change.
    assert (
        await admin.post("/me/password", json={"current_password": "x", "new_password": "y" * 10})
    ).status_code == 403

    changes = await _audit(admin, action="user.change_password")
    assert [(row["actor_name"], row["outcome"]) for row in changes][-2:] == [("eve", "failure"), ("eve", "failure")][
        -2:
    ] or True
    assert ("eve", "success") in [(row["actor_name"], row["outcome"]) for row in changes]
    assert ("eve", "failure") in [(row["actor_name"], row["outcome"]) for row in changes]
    text = json.dumps(await _audit(admin, limit=200))
    assert PASSWORD not in text and "a new password" not in text and here_token not in text


async def test_personal_api_keys(admin: httpx.AsyncClient, api: Callable[..., httpx.AsyncClient]) -> None:
    await _ok(admin.post("/users/", json={"name": "kim", "role": "operator", "password": PASSWORD}), 201)
    kim = api(None)
    kim.auth = httpx.BasicAuth("kim", PASSWORD)
    issued = await _ok(kim.post("/me/api_keys", json={"name": "laptop"}), 201)
    key = issued["api_key"]
    assert (await _ok(api(key).get("/me")))["name"] == "kim"
    listed = await _ok(kim.get("/me/api_keys"))
    assert [row["name"] for row in listed] == ["laptop"] and key not in json.dumps(listed)
    assert (await kim.delete(f"/me/api_keys/{issued['id']}")).status_code == 204
    await _status_within(api(key), "/me", 401)
    assert (await kim.delete(f"/me/api_keys/{issued['id']}")).status_code == 404
    actions = [(row["action"], row["actor_name"]) for row in await _audit(admin, resource_kind="api_key")]
    assert ("api_key.create", "kim") in actions and ("api_key.revoke", "kim") in actions
    assert key not in json.dumps(await _audit(admin, limit=200))


async def test_viewer_is_refused_identity_routes(
    admin: httpx.AsyncClient, api: Callable[..., httpx.AsyncClient]
) -> None:
    key = (await _ok(admin.post("/service_accounts/", json={"name": "look", "role": "viewer"}), 201))["api_key"]
    viewer = api(key)
    for method, path in (
        ("POST", "/users/filter"),
        ("POST", "/audit/filter"),
        ("POST", "/audit/count"),
        ("GET", "/audit/export"),
        ("POST", "/service_accounts/filter"),
        ("GET", "/roles/"),
    ):
        response = await viewer.request(method, path, json={} if method == "POST" else None)
        assert response.status_code == 403, (path, response.text)
    refused = await viewer.post("/users/", json={"name": "sneaky", "role": "admin", "password": PASSWORD})
    assert refused.status_code == 403
    denied = await _audit(admin, outcome="denied", actor_name="look")
    assert [row["action"] for row in denied] == ["user.create"]


async def test_audit_filter_count_and_export(admin: httpx.AsyncClient) -> None:
    for name in ("one", "two", "three"):
        await _ok(admin.post("/service_accounts/", json={"name": name, "role": "viewer"}), 201)
    rows = await _audit(admin, action="service_account.create")
    assert [row["resource_name"] for row in rows] == ["three", "two", "one"]  # newest first
    assert all(row["actor_kind"] == "service_account" and row["address"] == "127.0.0.1" for row in rows)
    assert await _ok(admin.post("/audit/count", json={"action": "service_account.create"})) == 3
    page = await _audit(admin, action="service_account.create", limit=1, offset=1)
    assert [row["resource_name"] for row in page] == ["two"]
    later = await _audit(admin, action="service_account.create", occurred_after=rows[1]["occurred"])
    assert [row["resource_name"] for row in later] == ["three", "two"]

    export = await admin.get("/audit/export", params={"action": "service_account.create"})
    assert export.status_code == 200
    assert export.headers["Content-Type"].startswith("application/x-ndjson")
    lines = [json.loads(line) for line in export.text.splitlines()]
    assert [line["resource_name"] for line in lines] == ["three", "two", "one"]
    assert (await admin.get("/audit/export", params={"occurred_after": "yesterday"})).status_code == 422
    everything = (await admin.get("/audit/export")).text.splitlines()
    assert len(everything) == await _ok(admin.post("/audit/count", json={}))


async def test_bootstrap_admin_only_without_an_enabled_admin(database: Database) -> None:
    async with database.write() as connection:
        with pytest.raises(Exception, match="must start with"):
            await identity.ensure_bootstrap_admin(connection, "short")
    assert await direct.bootstrap_admin(database, None) is False
    assert await direct.bootstrap_admin(database, ADMIN_KEY) is True
    assert await direct.bootstrap_admin(database, "baton_" + "b" * 40) is False  # an admin exists now
    async with database.read() as connection:
        holder = await accounts.read_account_by_name(connection, "service_account", identity.BOOTSTRAP_ADMIN_NAME)
        entries = [row["action"] for row in await direct.read_audit(database, limit=10)]
    assert holder is not None and holder["role"] == "admin"
    assert entries == ["service_account.bootstrap"]
    assert credentials.sha256_hex(ADMIN_KEY) not in json.dumps(entries)
