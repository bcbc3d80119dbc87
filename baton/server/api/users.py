"""`/users`: create, filter, read, change (role, disabled, password) and delete the users who sign in."""

from __future__ import annotations

from typing import Any

from baton.server.api.base import ApiHandler
from baton.server.api.openapi import endpoint
from baton.server.auth import identity
from baton.server.models.identity import accounts
from baton.server.schemas.identity import AccountFilter, User, UserCreate, UserUpdate

LAST_ADMIN = {"403": "The change would leave no enabled admin"}


class UsersHandler(ApiHandler):
    permission = "user:write"

    @endpoint(
        "Create a user who signs in with a password (409 if the name is taken)",
        body=UserCreate,
        response=User,
        status=201,
    )
    async def post(self) -> None:
        self.audit_action = "user.create"
        request = self.parse_body(UserCreate)
        self.audit_resource_name = request.name
        async with self.database.write() as connection:
            row = await identity.create_user(connection, request.name, request.role, request.password)
        self.audit_resource_id = str(row["id"])
        self.audit_detail = {"role": row["role"]}
        self.write_json(User.model_validate(row), status=201)


class UserFilterHandler(ApiHandler):
    permission = "user:read"

    @endpoint("Users by name", body=AccountFilter, response=list[User], optional_body=True)
    async def post(self) -> None:
        request = self.parse_body(AccountFilter, default_empty=True)
        limit = self.effective_limit(request.limit)
        async with self.database.read() as connection:
            rows = await accounts.read_accounts(
                connection, "user", name_like=request.name_like, limit=limit, offset=request.offset
            )
        self.write_json([User.model_validate(row) for row in rows])


def update_actions(kind: str, role: str | None, disabled: bool | None, password: bool = False) -> list[str]:
    """The audit actions of a PATCH to an account, in the order they are applied."""
    actions = []
    if role is not None:
        actions.append(f"{kind}.set_role")
    if disabled is not None:
        actions.append(f"{kind}.disable" if disabled else f"{kind}.enable")
    if password:
        actions.append(f"{kind}.reset_password")
    return actions


class UserHandler(ApiHandler):
    permission = {"GET": "user:read", "PATCH": "user:write", "DELETE": "user:write"}

    @endpoint("Read a user", response=User)
    async def get(self, user_id: str) -> None:
        async with self.database.read() as connection:
            row = await identity.require_account(connection, self.path_uuid(user_id, "user_id"), "user")
        self.write_json(User.model_validate(row))

    @endpoint(
        "Change a user's role, disable or enable them, or set their password",
        body=UserUpdate,
        response=User,
        responses=LAST_ADMIN,
    )
    async def patch(self, user_id: str) -> None:
        target = self.path_uuid(user_id, "user_id")
        update = self.parse_body(UserUpdate)
        actions = update_actions("user", update.role, update.disabled, update.password is not None)
        self.audit_action = actions[0] if actions else "user.update"
        detail: dict[str, Any] = {}
        async with self.database.write() as connection:
            row = await identity.require_account(connection, target, "user")
            self.audit_resource_name = row["name"]
            if update.role is not None:
                detail = {"role": update.role, "previous_role": row["role"]}
                row = await identity.set_role(connection, target, update.role)
            if update.disabled is not None:
                row = await identity.set_disabled(connection, target, update.disabled)
            if update.password is not None:
                await identity.set_password(connection, target, update.password)
        self.audit_detail = detail
        for action in actions[1:]:
            self.audit_also(action, resource_kind="user", resource_id=str(target), resource_name=row["name"])
        self.context.access.forget()
        self.write_json(User.model_validate(row))

    @endpoint("Delete a user", status=204, responses=LAST_ADMIN)
    async def delete(self, user_id: str) -> None:
        self.audit_action = "user.delete"
        target = self.path_uuid(user_id, "user_id")
        async with self.database.write() as connection:
            await identity.require_account(connection, target, "user")
            row = await identity.delete_account(connection, target)
        self.audit_resource_name = row["name"]
        self.context.access.forget()
        self.write_no_content()


routes = [
    (r"/users/?", UsersHandler),
    (r"/users/filter/?", UserFilterHandler),
    (r"/users/(?P<user_id>[^/]+)/?", UserHandler),
]
