"""The Baton user behind a single sign-on identity, on SQLite and PostgreSQL: made once, linked by issuer and
subject (not by name), given the groups' role at every sign-in, and never merged into a local user of the same
name."""

from __future__ import annotations

import dataclasses
import uuid

import pytest

from baton.accounts import DEFAULT_ACCOUNT_ID
from baton.errors import Forbidden, ValidationFailed
from baton.server.auth import identity
from baton.server.auth.sso.users import SsoIdentity, sign_in_sso_user
from baton.server.database.engine import Database
from baton.server.models import workspaces as models
from baton.server.models.identity import accounts
from baton.settings import RoleRule

ISSUER = "https://idp.example.com"


def _person(subject: str, name: str, email: str | None = None) -> SsoIdentity:
    return SsoIdentity(issuer=ISSUER, subject=subject, name=name, email=email, groups=("data",))


async def test_the_first_sign_in_makes_the_user_and_later_ones_update_its_role_and_email(database: Database) -> None:
    async with database.write() as connection:
        first = await sign_in_sso_user(connection, _person("s-1", "erin", "erin@acme.test"), "developer")
    assert (first.created, first.previous_role, first.account["role"]) == (True, None, "developer")
    async with database.write() as connection:
        # The provider renamed the person: the link is the subject, so the same user signs in, under its first name.
        again = await sign_in_sso_user(connection, _person("s-1", "erin.new", "erin@new.test"), "viewer")
    assert (again.created, again.previous_role, again.account["id"]) == (False, "developer", first.account["id"])
    async with database.read() as connection:
        stored = await accounts.read_account_by_sso(connection, ISSUER, "s-1")
        assert stored is not None
        assert (stored["name"], stored["role"], stored["email"], stored["password_hash"]) == (
            "erin",
            "viewer",
            "erin@new.test",
            None,
        )
        assert await accounts.read_account_by_sso(connection, "https://other-idp.example.com", "s-1") is None


async def test_a_local_user_of_the_same_name_is_not_taken_over(database: Database) -> None:
    async with database.write() as connection:
        await identity.create_user(connection, "frank", "admin", "frank-password-1")
    async with database.write() as connection:
        with pytest.raises(Forbidden, match="not linked to this single sign-on identity"):
            await sign_in_sso_user(connection, _person("s-2", "frank"), "viewer")
    async with database.read() as connection:
        frank = await accounts.read_account_by_name(connection, "user", "frank")
        assert frank is not None and frank["sso_subject"] is None and frank["role"] == "admin"


async def test_a_disabled_user_and_an_unknown_role_are_refused(database: Database) -> None:
    async with database.write() as connection:
        made = await sign_in_sso_user(connection, _person("s-3", "gina"), "operator")
        await identity.set_disabled(connection, made.account["id"], True)
    async with database.write() as connection:
        with pytest.raises(Forbidden, match="disabled"):
            await sign_in_sso_user(connection, _person("s-3", "gina"), "operator")
    async with database.write() as connection:
        with pytest.raises(ValidationFailed, match="no role named 'superuser'"):
            await sign_in_sso_user(connection, _person("s-4", "hank"), "superuser")


RULES = (
    RoleRule(group="data", role="developer"),
    RoleRule(group="analysts", role="developer", workspace="analytics"),
    RoleRule(group="data", role="viewer", workspace="analytics"),
    RoleRule(group="analysts", role="operator", workspace="shared"),
    RoleRule(group="data", role="wizard", workspace="shared"),
    RoleRule(group="data", role="viewer", workspace="ghost"),
)


async def _members(database: Database, *workspace_ids: uuid.UUID) -> dict[uuid.UUID, dict[uuid.UUID, str]]:
    """{workspace id: {member id: role}}."""
    found = {}
    async with database.read() as connection:
        for workspace_id in workspace_ids:
            rows = await models.read_workspace_members(connection, workspace_id)
            found[workspace_id] = {row["member_id"]: row["role"] for row in rows}
    return found


async def test_rules_naming_workspaces_give_and_take_the_roles_single_sign_on_made(database: Database) -> None:
    async with database.write() as connection:
        analytics = await models.create_workspace(connection, DEFAULT_ACCOUNT_ID, "analytics", "")
        shared = await models.create_workspace(connection, DEFAULT_ACCOUNT_ID, "shared", "")
        by_id = await models.create_workspace(connection, DEFAULT_ACCOUNT_ID, "by-id", "")
    rules = (*RULES, RoleRule(group="analysts", role="viewer", workspace=str(by_id["id"])))
    person = SsoIdentity(ISSUER, "s-5", "ines", None, ("data", "analysts"))

    async with database.write() as connection:
        first = await sign_in_sso_user(connection, person, "developer", rules)
    ines = first.account["id"]
    assert [(c.workspace_name, c.role, c.previous_role) for c in first.workspaces.changes] == [
        ("analytics", "developer", None),
        ("shared", "operator", None),
        ("by-id", "viewer", None),
    ]
    assert first.workspaces.skipped == [{"workspace": "ghost", "reason": "no such workspace"}]
    members = await _members(database, analytics["id"], shared["id"], by_id["id"])
    assert members == {
        analytics["id"]: {ines: "developer"},
        shared["id"]: {ines: "operator"},
        by_id["id"]: {ines: "viewer"},
    }

    # An admin gives the user a role in `shared` by hand (a membership of their own) after single sign-on's is gone.
    async with database.write() as connection:
        await models.delete_workspace_member(connection, shared["id"], ines)
        await models.set_workspace_member(connection, shared["id"], ines, "viewer")

    # Out of "analysts": analytics falls to the next rule, by-id is removed; the hand-made membership in `shared`
    # stays, and the rule giving an unknown role there is skipped.
    async with database.write() as connection:
        again = await sign_in_sso_user(connection, dataclasses.replace(person, groups=("data",)), "developer", rules)
    assert [(c.workspace_name, c.role, c.previous_role) for c in again.workspaces.changes] == [
        ("analytics", "viewer", "developer"),
        ("by-id", None, "viewer"),
    ]
    assert [item["workspace"] for item in again.workspaces.skipped] == ["ghost", "shared"]
    assert "no role named 'wizard'" in again.workspaces.skipped[1]["reason"]
    members = await _members(database, analytics["id"], shared["id"], by_id["id"])
    assert members == {analytics["id"]: {ines: "viewer"}, shared["id"]: {ines: "viewer"}, by_id["id"]: {}}

    # No group left for the workspaces: the membership single sign-on made goes, the admin's stays.
    async with database.write() as connection:
        last = await sign_in_sso_user(connection, dataclasses.replace(person, groups=("other",)), "viewer", rules)
    assert [(c.workspace_name, c.role) for c in last.workspaces.changes] == [("analytics", None)]
    members = await _members(database, analytics["id"], shared["id"], by_id["id"])
    assert members == {analytics["id"]: {}, shared["id"]: {ines: "viewer"}, by_id["id"]: {}}
