"""Workspaces and their members: request bodies and the objects the API answers (Prefect Cloud's shape)."""

from __future__ import annotations

import uuid
from typing import Annotated

from pydantic import Field

from baton.server.schemas.base import ActionModel, Limit, ListingModel, Name, ObjectModel, Offset

Description = Annotated[str, Field(max_length=10_000)]
RoleName = Annotated[str, Field(min_length=1, max_length=255)]


class Workspace(ObjectModel):
    account_id: uuid.UUID
    name: str
    description: str


class WorkspaceCreate(ActionModel):
    name: Name
    description: Description = ""


class WorkspaceUpdate(ActionModel):
    name: Name | None = None
    description: Description | None = None


class WorkspaceFilter(ListingModel):
    #: Workspaces whose name contains this text (case-insensitive).
    name_like: str | None = Field(default=None, max_length=255)
    limit: Limit | None = None
    offset: Offset = 0


class WorkspaceMember(ObjectModel):
    workspace_id: uuid.UUID
    member_id: uuid.UUID
    role: str


class WorkspaceMemberSet(ActionModel):
    role: RoleName
