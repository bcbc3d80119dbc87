"""The Baton user behind a single sign-on identity, on SQLite and PostgreSQL: made once, linked by issuer and
subject (not by name), given the groups' role at every sign-in, and never merged into a local user of the same
name."""

from __future__ import annotations

import pytest

from baton.errors import Forbidden, ValidationFailed
from baton.server.auth import identity
from baton.server.auth.sso.users import SsoIdentity, sign_in_sso_user
from baton.server.database.engine import Database
from baton.server.models.identity import accounts

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
