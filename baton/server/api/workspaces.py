"""`/workspaces`: make, read, rename and delete workspaces, and give accounts a role in one. Served at /api only:
a workspace's own objects are served under `/api/accounts/{account_id}/workspaces/{workspace_id}/...`."""

from __future__ import annotations

import uuid

from baton.server import workspaces
from baton.server.api.base import ApiHandler
from baton.server.api.openapi import endpoint
from baton.server.auth import identity
from baton.server.models import workspaces as models
from baton.server.schemas.workspaces import (
    Workspace,
    WorkspaceCreate,
    WorkspaceFilter,
    WorkspaceMember,
    WorkspaceMemberSet,
    WorkspaceUpdate,
)

NAME_TAKEN = {"409": "A workspace of that name exists"}


class WorkspaceApiHandler(ApiHandler):
    def workspace_id(self, value: str) -> uuid.UUID:
        return self.path_uuid(value, "workspace_id")


class WorkspacesHandler(WorkspaceApiHandler):
    permission = "workspace:write"

    @endpoint(
        "Create a workspace, with its own store of every kind of object",
        body=WorkspaceCreate,
        response=Workspace,
        status=201,
        responses=NAME_TAKEN,
    )
    async def post(self) -> None:
        self.audit_action = "workspace.create"
        request = self.parse_body(WorkspaceCreate)
        self.audit_resource_name = request.name
        row = await workspaces.create_workspace(self.database, request.name, request.description)
        self.audit_resource_id = str(row["id"])
        self.context.workspaces.forget()
        self.write_json(Workspace.model_validate(row), status=201)


class WorkspaceFilterHandler(WorkspaceApiHandler):
    permission = "workspace:read"

    @endpoint("List workspaces by name", body=WorkspaceFilter, response=list[Workspace])
    async def post(self) -> None:
        request = self.parse_body(WorkspaceFilter, default_empty=True)
        limit = self.effective_limit(request.limit)
        async with self.database.read() as connection:
            rows = await models.read_workspaces(
                connection, name_like=request.name_like, limit=limit, offset=request.offset
            )
        self.write_json([Workspace.model_validate(row) for row in rows])


class WorkspaceHandler(WorkspaceApiHandler):
    permission = {"GET": "workspace:read", "PATCH": "workspace:write", "DELETE": "workspace:write"}

    @endpoint("Read a workspace", response=Workspace)
    async def get(self, workspace_id: str) -> None:
        async with self.database.read() as connection:
            row = await models.require_workspace(connection, self.workspace_id(workspace_id))
        self.write_json(Workspace.model_validate(row))

    @endpoint("Rename a workspace or change its description", body=WorkspaceUpdate, status=204, responses=NAME_TAKEN)
    async def patch(self, workspace_id: str) -> None:
        self.audit_action = "workspace.update"
        target = self.workspace_id(workspace_id)
        update = self.parse_body(WorkspaceUpdate)
        async with self.database.write() as connection:
            row = await models.update_workspace(connection, target, update.model_dump(exclude_unset=True))
        self.context.workspaces.forget()
        self.audit_resource_name = row["name"]
        self.write_no_content()

    @endpoint("Delete a workspace and every object in it", status=204)
    async def delete(self, workspace_id: str) -> None:
        self.audit_action = "workspace.delete"
        target = self.workspace_id(workspace_id)
        row = await workspaces.delete_workspace(self.database, target)
        await self.context.forget_workspace(target)
        self.audit_resource_name = row["name"]
        self.write_no_content()


class WorkspaceMembersHandler(WorkspaceApiHandler):
    permission = "workspace:read"

    @endpoint("The accounts holding a role in a workspace", response=list[WorkspaceMember])
    async def get(self, workspace_id: str) -> None:
        target = self.workspace_id(workspace_id)
        async with self.database.read() as connection:
            await models.require_workspace(connection, target)
            rows = await models.read_workspace_members(connection, target)
        self.write_json([WorkspaceMember.model_validate(row) for row in rows])


class WorkspaceMemberHandler(WorkspaceApiHandler):
    permission = {"PUT": "workspace:write", "DELETE": "workspace:write"}

    @endpoint(
        "Give a user or service account a role in a workspace (replacing the one it held)",
        body=WorkspaceMemberSet,
        response=WorkspaceMember,
    )
    async def put(self, workspace_id: str, member_id: str) -> None:
        self.audit_action = "workspace.set_member"
        target = self.workspace_id(workspace_id)
        member = self.path_uuid(member_id, "member_id")
        request = self.parse_body(WorkspaceMemberSet)
        self.audit_detail = {"member_id": str(member), "role": request.role}
        async with self.database.write() as connection:
            await models.require_workspace(connection, target)
            await identity.require_account(connection, member)
            role = await identity.check_role(connection, request.role)
            row = await models.set_workspace_member(connection, target, member, role)
        self.context.workspaces.forget()
        self.write_json(WorkspaceMember.model_validate(row))

    @endpoint("Take away an account's role in a workspace", status=204)
    async def delete(self, workspace_id: str, member_id: str) -> None:
        self.audit_action = "workspace.remove_member"
        target = self.workspace_id(workspace_id)
        member = self.path_uuid(member_id, "member_id")
        self.audit_detail = {"member_id": str(member)}
        async with self.database.write() as connection:
            await models.delete_workspace_member(connection, target, member)
        self.context.workspaces.forget()
        self.write_no_content()


routes = [
    (r"/workspaces/?", WorkspacesHandler),
    (r"/workspaces/filter/?", WorkspaceFilterHandler),
    (r"/workspaces/(?P<workspace_id>[^/]+)/members/?", WorkspaceMembersHandler),
    (r"/workspaces/(?P<workspace_id>[^/]+)/members/(?P<member_id>[^/]+)/?", WorkspaceMemberHandler),
    (r"/workspaces/(?P<workspace_id>[^/]+)/?", WorkspaceHandler),
]
