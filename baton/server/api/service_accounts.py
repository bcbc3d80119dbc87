"""`/service_accounts`: accounts for machines, each holding API keys; the key is answered once, on create and on
rotate, and only its prefix afterwards."""

from __future__ import annotations

import uuid
from typing import Any

from baton.server.api.base import ApiHandler
from baton.server.api.openapi import endpoint
from baton.server.api.users import LAST_ADMIN, update_actions
from baton.server.auth import identity
from baton.server.models.identity import accounts, api_keys
from baton.server.schemas.identity import (
    AccountFilter,
    ServiceAccount,
    ServiceAccountCreate,
    ServiceAccountUpdate,
    ServiceAccountWithKey,
)


def _with_keys(row: dict[str, Any], keys: list[dict[str, Any]]) -> ServiceAccount:
    return ServiceAccount.model_validate({**row, "api_keys": keys})


class ServiceAccountsHandler(ApiHandler):
    permission = "service_account:write"

    @endpoint(
        "Create a service account and its first API key, which is in this answer only",
        body=ServiceAccountCreate,
        response=ServiceAccountWithKey,
        status=201,
    )
    async def post(self) -> None:
        self.audit_action = "service_account.create"
        request = self.parse_body(ServiceAccountCreate)
        self.audit_resource_name = request.name
        async with self.database.write() as connection:
            row, key_row, key = await identity.create_service_account(
                connection, request.name, request.role, request.expires_at
            )
        self.audit_resource_id = str(row["id"])
        self.audit_detail = {"role": row["role"], "key_prefix": key_row["prefix"]}
        account = ServiceAccountWithKey.model_validate({**row, "api_keys": [key_row], "api_key": key})
        self.write_json(account, status=201)


class ServiceAccountFilterHandler(ApiHandler):
    permission = "service_account:read"

    @endpoint(
        "Service accounts by name, with their keys",
        body=AccountFilter,
        response=list[ServiceAccount],
        optional_body=True,
    )
    async def post(self) -> None:
        request = self.parse_body(AccountFilter, default_empty=True)
        limit = self.effective_limit(request.limit)
        async with self.database.read() as connection:
            rows = await accounts.read_accounts(
                connection, "service_account", name_like=request.name_like, limit=limit, offset=request.offset
            )
            keys = await api_keys.read_api_keys_of_accounts(connection, [row["id"] for row in rows])
        self.write_json([ServiceAccount.model_validate({**row, "api_keys": keys[row["id"]]}) for row in rows])


class ServiceAccountHandler(ApiHandler):
    permission = {"GET": "service_account:read", "PATCH": "service_account:write", "DELETE": "service_account:write"}

    def _target(self, account_id: str) -> uuid.UUID:
        return self.path_uuid(account_id, "account_id")

    @endpoint("Read a service account with its keys", response=ServiceAccount)
    async def get(self, account_id: str) -> None:
        async with self.database.read() as connection:
            row = await identity.require_account(connection, self._target(account_id), "service_account")
            account = _with_keys(row, await api_keys.read_api_keys(connection, row["id"]))
        self.write_json(account)

    @endpoint(
        "Change a service account's role, or disable or enable it",
        body=ServiceAccountUpdate,
        response=ServiceAccount,
        responses=LAST_ADMIN,
    )
    async def patch(self, account_id: str) -> None:
        target = self._target(account_id)
        update = self.parse_body(ServiceAccountUpdate)
        actions = update_actions("service_account", update.role, update.disabled)
        self.audit_action = actions[0] if actions else "service_account.update"
        async with self.database.write() as connection:
            row = await identity.require_account(connection, target, "service_account")
            self.audit_resource_name = row["name"]
            if update.role is not None:
                self.audit_detail = {"role": update.role, "previous_role": row["role"]}
                row = await identity.set_role(connection, target, update.role)
            if update.disabled is not None:
                row = await identity.set_disabled(connection, target, update.disabled)
            account = _with_keys(row, await api_keys.read_api_keys(connection, row["id"]))
        for action in actions[1:]:
            self.audit_also(action, resource_kind="service_account", resource_id=str(target), resource_name=row["name"])
        self.context.access.forget()
        self.write_json(account)

    @endpoint("Delete a service account and its keys", status=204, responses=LAST_ADMIN)
    async def delete(self, account_id: str) -> None:
        self.audit_action = "service_account.delete"
        target = self._target(account_id)
        async with self.database.write() as connection:
            await identity.require_account(connection, target, "service_account")
            row = await identity.delete_account(connection, target)
        self.audit_resource_name = row["name"]
        self.context.access.forget()
        self.write_no_content()


class ServiceAccountRotateKeyHandler(ApiHandler):
    permission = "service_account:write"

    @endpoint(
        "Revoke every key of a service account and issue a new one, which is in this answer only",
        response=ServiceAccountWithKey,
    )
    async def post(self, account_id: str) -> None:
        self.audit_action = "api_key.rotate"
        target = self.path_uuid(account_id, "account_id")
        async with self.database.write() as connection:
            row = await identity.require_account(connection, target, "service_account")
            self.audit_resource_name = row["name"]
            key_row, key = await identity.rotate_api_key(connection, target)
            account = _with_keys(row, await api_keys.read_api_keys(connection, row["id"]))
        self.audit_detail = {"key_prefix": key_row["prefix"]}
        self.context.access.forget()
        self.write_json(ServiceAccountWithKey.model_validate({**account.model_dump(), "api_key": key}))


routes = [
    (r"/service_accounts/?", ServiceAccountsHandler),
    (r"/service_accounts/filter/?", ServiceAccountFilterHandler),
    (r"/service_accounts/(?P<account_id>[^/]+)/rotate_key/?", ServiceAccountRotateKeyHandler),
    (r"/service_accounts/(?P<account_id>[^/]+)/?", ServiceAccountHandler),
]
