"""`/roles`: the built-in roles and custom roles (named sets of permissions), and the permission catalogue."""

from __future__ import annotations

from typing import Any

from baton.server.api.base import ApiHandler
from baton.server.api.openapi import endpoint
from baton.server.auth import identity
from baton.server.models.identity import roles
from baton.server.permissions import BUILT_IN_ROLES, RESOURCES, ROLE_DESCRIPTIONS
from baton.server.schemas.identity import Role, RoleCreate, RoleUpdate

BUILT_IN = {"403": "Built-in roles cannot be changed or deleted; nor can a role some account holds be deleted"}


def all_roles(custom_rows: list[dict[str, Any]]) -> list[Role]:
    """Every role: the built-in ones first, in their fixed order, then the custom ones (`custom_rows`) by name."""
    built_in = [
        Role(name=name, description=ROLE_DESCRIPTIONS[name], permissions=sorted(permissions), built_in=True)
        for name, permissions in BUILT_IN_ROLES.items()
    ]
    return built_in + [_custom(row) for row in custom_rows]


def _custom(row: dict[str, Any]) -> Role:
    return Role(name=row["name"], description=row["description"], permissions=row["permissions"], built_in=False)


class RolesHandler(ApiHandler):
    permission = {"GET": "role:read", "POST": "role:write"}

    @endpoint("Every role, built-in and custom, with its permissions", response=list[Role])
    async def get(self) -> None:
        async with self.database.read() as connection:
            self.write_json(all_roles(await roles.read_custom_roles(connection)))

    @endpoint(
        "Create a custom role (422 for a permission not in the catalogue)", body=RoleCreate, response=Role, status=201
    )
    async def post(self) -> None:
        self.audit_action = "role.create"
        request = self.parse_body(RoleCreate)
        self.audit_resource_name = request.name
        async with self.database.write() as connection:
            row = await identity.create_custom_role(connection, request.name, request.permissions, request.description)
        self.audit_resource_id = str(row["id"])
        self.audit_detail = {"permissions": row["permissions"]}
        self.context.access.forget()
        self.write_json(_custom(row), status=201)


class PermissionsHandler(ApiHandler):
    permission = "role:read"

    @endpoint("The permission catalogue: each resource with its verbs", response=dict[str, list[str]])
    async def get(self) -> None:
        self.write_json({resource: list(verbs) for resource, verbs in RESOURCES.items()})


class RoleHandler(ApiHandler):
    permission = "role:write"

    @endpoint("Change a custom role's permissions or description", body=RoleUpdate, response=Role, responses=BUILT_IN)
    async def patch(self, name: str) -> None:
        self.audit_action = "role.update"
        request = self.parse_body(RoleUpdate)
        async with self.database.write() as connection:
            row = await identity.update_custom_role(
                connection, name, permissions=request.permissions, description=request.description
            )
        self.audit_resource_id = str(row["id"])
        self.audit_detail = {"permissions": row["permissions"]}
        self.context.access.forget()
        self.write_json(_custom(row))

    @endpoint("Delete a custom role no account holds", status=204, responses=BUILT_IN)
    async def delete(self, name: str) -> None:
        self.audit_action = "role.delete"
        async with self.database.write() as connection:
            await identity.delete_custom_role(connection, name)
        self.context.access.forget()
        self.write_no_content()


routes = [
    (r"/roles/?", RolesHandler),
    (r"/roles/permissions/?", PermissionsHandler),
    (r"/roles/(?P<name>[^/]+)/?", RoleHandler),
]
