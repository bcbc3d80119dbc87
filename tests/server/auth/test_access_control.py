"""AccessControl on a real database: API keys, passwords, sessions and custom roles resolve to principals; cached
credentials cost no database statement; revocation, disabling and role changes reach the cache within
`auth_cache_seconds`; cookie writes need the CSRF token; sign-in failures are limited."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from baton.errors import NotAuthenticated, PermissionDenied, TooManyAttempts
from baton.server.auth import identity
from baton.server.auth.access import SESSION_COOKIE, AccessControl
from baton.server.auth.sign_in import MAX_FAILURES_PER_ACCOUNT, SignInGuard
from baton.server.database.engine import Database
from baton.server.database.types import utcnow
from baton.server.models.identity import api_keys
from baton.settings import Settings

CACHE_SECONDS = 0.2


@pytest.fixture
def access(database: Database, tmp_path: Path) -> AccessControl:
    settings = Settings(home=tmp_path, auth_enabled=True, auth_cache_seconds=CACHE_SECONDS)
    return AccessControl(settings, database)


@pytest.fixture
def statements(database: Database) -> Iterator[list[str]]:
    """Every SQL statement the database runs while the test does."""
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    engine = database.engine.sync_engine
    sa.event.listen(engine, "before_cursor_execute", record)
    yield seen
    sa.event.remove(engine, "before_cursor_execute", record)


async def _service_account(database: Database, name: str, role: str, **kwargs: Any) -> tuple[dict[str, Any], str]:
    async with database.write() as connection:
        account, _, key = await identity.create_service_account(connection, name, role, **kwargs)
    return account, key


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def test_a_key_resolves_to_its_account_and_role(access: AccessControl, database: Database) -> None:
    account, key = await _service_account(database, "deployer", "developer")
    principal = await access.admit("POST", "variable:write", _bearer(key), {})
    assert (principal.kind, principal.name, principal.role, principal.id) == (
        "service_account",
        "deployer",
        "developer",
        account["id"],
    )
    with pytest.raises(PermissionDenied, match="does not allow.*user:write"):
        await access.admit("POST", "user:write", _bearer(key), {})


async def test_a_cached_key_costs_no_database_statement(
    access: AccessControl, database: Database, statements: list[str]
) -> None:
    _, key = await _service_account(database, "busy-worker", "worker")
    await access.admit("GET", "flow_run:read", _bearer(key), {})
    statements.clear()
    for _ in range(200):
        await access.admit("GET", "flow_run:read", _bearer(key), {})
    assert statements == []


async def test_missing_unknown_and_malformed_credentials_are_401(access: AccessControl) -> None:
    with pytest.raises(NotAuthenticated, match="Sign in first"):
        await access.admit("GET", "flow:read", {}, {})
    with pytest.raises(NotAuthenticated, match="not valid"):
        await access.admit("GET", "flow:read", _bearer("baton_no-such-key"), {})
    with pytest.raises(NotAuthenticated, match="Bearer"):
        await access.admit("GET", "flow:read", {"Authorization": "Token abc"}, {})
    with pytest.raises(NotAuthenticated, match="base64"):
        await access.admit("GET", "flow:read", {"Authorization": "Basic !!!"}, {})
    # Public routes need nothing, but a bad credential on them is still refused.
    assert (await access.admit("GET", "public", {}, {})).is_anonymous


async def test_revoking_a_key_takes_effect_within_the_cache_period(access: AccessControl, database: Database) -> None:
    account, key = await _service_account(database, "leaver", "worker")
    await access.admit("GET", "flow:read", _bearer(key), {})
    async with database.write() as connection:
        assert await api_keys.revoke_api_keys(connection, account["id"]) == 1
    await asyncio.sleep(CACHE_SECONDS + 0.05)
    with pytest.raises(NotAuthenticated):
        await access.admit("GET", "flow:read", _bearer(key), {})


async def test_disabling_an_account_and_changing_its_role_take_effect(
    access: AccessControl, database: Database
) -> None:
    account, key = await _service_account(database, "changing", "developer")
    assert (await access.admit("GET", "flow:read", _bearer(key), {})).role == "developer"
    async with database.write() as connection:
        await identity.set_role(connection, account["id"], "viewer")
    await asyncio.sleep(CACHE_SECONDS + 0.05)
    with pytest.raises(PermissionDenied):
        await access.admit("POST", "variable:write", _bearer(key), {})
    async with database.write() as connection:
        await identity.set_disabled(connection, account["id"], True)
    await asyncio.sleep(CACHE_SECONDS + 0.05)
    with pytest.raises(NotAuthenticated):
        await access.admit("GET", "flow:read", _bearer(key), {})


async def test_an_expired_service_account_is_refused(access: AccessControl, database: Database) -> None:
    _, key = await _service_account(database, "temporary", "viewer", expires_at=utcnow() + dt.timedelta(seconds=0.3))
    await access.admit("GET", "flow:read", _bearer(key), {})
    await asyncio.sleep(0.35)
    with pytest.raises(NotAuthenticated):
        await access.admit("GET", "flow:read", _bearer(key), {})


async def test_custom_roles_grant_exactly_their_permissions(access: AccessControl, database: Database) -> None:
    async with database.write() as connection:
        await identity.create_custom_role(connection, "variables-only", ["variable:read", "variable:write"])
    _, key = await _service_account(database, "narrow", "variables-only")
    await access.admit("POST", "variable:write", _bearer(key), {})
    with pytest.raises(PermissionDenied):
        await access.admit("GET", "flow:read", _bearer(key), {})
    async with database.write() as connection:
        await identity.update_custom_role(connection, "variables-only", permissions=["flow:read"], description=None)
    await asyncio.sleep(CACHE_SECONDS + 0.05)
    await access.admit("GET", "flow:read", _bearer(key), {})
    with pytest.raises(PermissionDenied):
        await access.admit("POST", "variable:write", _bearer(key), {})


async def test_basic_auth_takes_a_password_or_a_key(access: AccessControl, database: Database) -> None:
    async with database.write() as connection:
        await identity.create_user(connection, "alice", "operator", "correct horse")
    _, key = await _service_account(database, "ci", "worker")

    def basic(value: str) -> dict[str, str]:
        return {"Authorization": "Basic " + base64.b64encode(value.encode()).decode()}

    assert (await access.admit("GET", "flow:read", basic("alice:correct horse"), {})).name == "alice"
    with pytest.raises(NotAuthenticated, match="name or password"):
        await access.admit("GET", "flow:read", basic("alice:wrong horse"), {})
    with pytest.raises(NotAuthenticated, match="name or password"):
        await access.admit("GET", "flow:read", basic("nobody:correct horse"), {})
    assert (await access.admit("GET", "flow:read", basic(f"ci:{key}"), {})).name == "ci"
    # The websocket auth message's token: a key, or the auth string itself.
    assert (await access.token_principal(key)).name == "ci"
    assert (await access.token_principal("alice:correct horse")).name == "alice"
    with pytest.raises(NotAuthenticated, match="no token"):
        await access.token_principal(None)


async def test_session_writes_need_the_csrf_token_or_a_same_origin(access: AccessControl, database: Database) -> None:
    async with database.write() as connection:
        user = await identity.create_user(connection, "bob", "developer", "long enough")
        session, token = await identity.start_session(connection, user, hours=1, address="127.0.0.1")
    cookies = {SESSION_COOKIE: token}
    assert (await access.admit("GET", "variable:read", {}, cookies)).name == "bob"
    with pytest.raises(PermissionDenied, match="CSRF"):
        await access.admit("POST", "variable:write", {}, cookies, host="baton.local:4200")
    with pytest.raises(PermissionDenied, match="CSRF"):
        await access.admit("POST", "variable:write", {"X-CSRF-Token": "forged"}, cookies, host="baton.local:4200")
    with pytest.raises(PermissionDenied, match="CSRF"):
        headers = {"Origin": "https://evil.example"}
        await access.admit("POST", "variable:write", headers, cookies, host="baton.local:4200")
    csrf = {"X-CSRF-Token": session["csrf_token"]}
    assert (await access.admit("POST", "variable:write", csrf, cookies, host="baton.local:4200")).name == "bob"
    same_origin = {"Origin": "http://baton.local:4200"}
    assert (await access.admit("POST", "variable:write", same_origin, cookies, host="baton.local:4200")).name == "bob"
    # A password change ends every session.
    async with database.write() as connection:
        await identity.set_password(connection, user["id"], "another long one")
    await asyncio.sleep(CACHE_SECONDS + 0.05)
    with pytest.raises(NotAuthenticated, match="session has ended"):
        await access.admit("GET", "variable:read", {}, cookies)


async def test_sign_in_failures_are_limited_with_the_same_answer_for_unknown_names(database: Database) -> None:
    async with database.write() as connection:
        await identity.create_user(connection, "carol", "viewer", "carols password")
    guard = SignInGuard()
    async with database.read() as connection:
        for _ in range(MAX_FAILURES_PER_ACCOUNT):
            with pytest.raises(NotAuthenticated) as wrong:
                await guard.check_password(connection, "carol", "nope", "10.0.0.1")
        with pytest.raises(NotAuthenticated) as unknown:
            await guard.check_password(connection, "nobody", "nope", "10.0.0.2")
        assert wrong.value.message == unknown.value.message
        with pytest.raises(TooManyAttempts) as limited:
            await guard.check_password(connection, "carol", "carols password", "10.0.0.3")
        assert limited.value.retry_after_seconds > 0
        # Another account from another address is unaffected.
        with pytest.raises(NotAuthenticated):
            await guard.check_password(connection, "dave", "x", "10.0.0.4")


async def test_the_last_admin_cannot_be_removed(database: Database) -> None:
    async with database.write() as connection:
        admin = await identity.create_user(connection, "root", "admin", "root password")
    for change in (
        lambda c: identity.set_role(c, admin["id"], "viewer"),
        lambda c: identity.set_disabled(c, admin["id"], True),
        lambda c: identity.delete_account(c, admin["id"]),
    ):
        with pytest.raises(Exception, match="last enabled admin"):
            async with database.write() as connection:
                await change(connection)
