"""Users and service accounts as other commands need them: found by name or id (served at /api only)."""

from __future__ import annotations

import uuid

from baton.client.base import BaseClient, JsonObject
from baton.errors import ObjectNotFound, ValidationFailed

# Accounts asked for per page (the server's largest page).
ACCOUNT_PAGE = 200
#: The API's collection for each kind of account, and the kind's name in messages.
KINDS = {"user": "users", "service account": "service_accounts"}


class AccountsClient(BaseClient):
    def read_accounts(self, kind: str, *, name_like: str | None = None) -> list[JsonObject]:
        """Every account of `kind` ("user" or "service account"), optionally those whose name contains
        `name_like`, each with a `kind` field."""
        rows: list[JsonObject] = []
        while True:
            body = {"name_like": name_like, "limit": ACCOUNT_PAGE, "offset": len(rows)}
            page = self.request("POST", f"/{KINDS[kind]}/filter", json=body, global_route=True)
            rows.extend({**row, "kind": kind} for row in page)
            if len(page) < ACCOUNT_PAGE:
                return rows

    def find_account(self, name_or_id: str) -> JsonObject:
        """The user or service account with that id or name, with a `kind` field; ObjectNotFound when there is
        none, ValidationFailed when a user and a service account share the name."""
        try:
            account_id = uuid.UUID(name_or_id)
        except ValueError:
            account_id = None
        if account_id is not None:
            for kind, collection in KINDS.items():
                try:
                    row = self.request("GET", f"/{collection}/{account_id}", global_route=True)
                except ObjectNotFound:
                    continue
                return {**row, "kind": kind}
            raise ObjectNotFound(f"No user or service account has the id {name_or_id}.")
        found = [row for kind in KINDS for row in self.read_accounts(kind, name_like=name_or_id)]
        found = [row for row in found if row["name"] == name_or_id]
        if not found:
            raise ObjectNotFound(f"No user or service account is named {name_or_id!r}.")
        if len(found) > 1:
            raise ValidationFailed(
                f"A user and a service account are both named {name_or_id!r}; give the account's id instead."
            )
        return found[0]
