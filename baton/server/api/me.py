"""`/me`: who the caller is, changing one's own password, and a user's personal API keys."""

from __future__ import annotations

from baton.errors import Forbidden, NotAuthenticated, ObjectNotFound, ValidationFailed
from baton.server.api.base import ApiHandler
from baton.server.api.openapi import endpoint
from baton.server.auth import identity
from baton.server.auth.principal import Principal
from baton.server.database.types import utcnow
from baton.server.models.identity import api_keys
from baton.server.permissions import SIGNED_IN
from baton.server.schemas.identity import ApiKey, ApiKeyCreate, IssuedApiKey, Me, PasswordChange

NO_ACCOUNT = {"403": "The caller has no account of the kind this needs (authentication off, or a service account)"}


def _require_user(principal: Principal, what: str) -> None:
    if principal.kind != "user" or principal.id is None:
        who = "With authentication off there is no signed-in user" if principal.is_anonymous else "Only users"
        raise Forbidden(f"{who}: {what} is for users signed in with their own account.")


class MeHandler(ApiHandler):
    permission = SIGNED_IN

    @endpoint("Who the caller is, with its role's permissions", response=Me)
    async def get(self) -> None:
        principal = self.principal
        self.write_json(
            Me(
                kind=principal.kind,
                id=principal.id,
                name=principal.name,
                role=principal.role,
                permissions=sorted(principal.permissions),
                auth_enabled=self.context.access.enabled,
            )
        )


class MePasswordHandler(ApiHandler):
    permission = SIGNED_IN
    audit_resource_kind = "user"

    @endpoint("Change my password; my other sessions end", body=PasswordChange, status=204, responses=NO_ACCOUNT)
    async def post(self) -> None:
        self.audit_action = "user.change_password"
        self.audit_resource_name = self.principal.name
        change = self.parse_body(PasswordChange)
        _require_user(self.principal, "changing a password")
        assert self.principal.id is not None
        self.audit_resource_id = str(self.principal.id)
        async with self.database.read() as connection:
            try:
                await self.context.sign_in_guard.check_password(
                    connection, self.principal.name, change.current_password, self.request.remote_ip
                )
            except NotAuthenticated:
                raise ValidationFailed("The current password is not right.") from None
        async with self.database.write() as connection:
            await identity.set_password(
                connection, self.principal.id, change.new_password, keep_session=self.principal.session_id
            )
        self.context.access.forget()
        self.write_no_content()


class MeApiKeysHandler(ApiHandler):
    permission = SIGNED_IN
    audit_resource_kind = "api_key"

    @endpoint("My API keys (a service account: its own keys)", response=list[ApiKey])
    async def get(self) -> None:
        if self.principal.id is None:
            self.write_json([])
            return
        async with self.database.read() as connection:
            rows = await api_keys.read_api_keys(connection, self.principal.id)
        self.write_json([ApiKey.model_validate(row) for row in rows])

    @endpoint(
        "Make a personal API key; the key is in this answer only",
        body=ApiKeyCreate,
        response=IssuedApiKey,
        status=201,
        responses=NO_ACCOUNT,
    )
    async def post(self) -> None:
        self.audit_action = "api_key.create"
        request = self.parse_body(ApiKeyCreate)
        _require_user(self.principal, "a personal API key")
        assert self.principal.id is not None
        if request.expires_at is not None and request.expires_at <= utcnow():
            raise ValidationFailed("expires_at must be in the future.")
        async with self.database.write() as connection:
            row, key = await identity.issue_api_key(
                connection, self.principal.id, name=request.name, expires_at=request.expires_at
            )
        self.audit_resource_id = str(row["id"])
        self.audit_resource_name = row["name"]
        self.audit_detail = {"account": self.principal.name, "prefix": row["prefix"]}
        self.write_json(IssuedApiKey.model_validate({**row, "api_key": key}), status=201)


class MeApiKeyHandler(ApiHandler):
    permission = SIGNED_IN
    audit_resource_kind = "api_key"

    @endpoint("Revoke one of my API keys", status=204)
    async def delete(self, key_id: str) -> None:
        self.audit_action = "api_key.revoke"
        target = self.path_uuid(key_id, "key_id")
        revoked = 0
        if self.principal.id is not None:
            async with self.database.write() as connection:
                revoked = await api_keys.revoke_api_keys(connection, self.principal.id, target)
        if not revoked:
            raise ObjectNotFound(f"You hold no live API key with the id {key_id}.")
        self.audit_detail = {"account": self.principal.name}
        self.context.access.forget()
        self.write_no_content()


routes = [
    (r"/me/?", MeHandler),
    (r"/me/password/?", MePasswordHandler),
    (r"/me/api_keys/?", MeApiKeysHandler),
    (r"/me/api_keys/(?P<key_id>[^/]+)/?", MeApiKeyHandler),
]
