"""Admitting a request made under a workspace's URL: the workspace must exist, the caller must hold a role in it,
and that role must grant the route's permission. A workspace that does not exist and one the caller holds no role in
get the same 404, so that a caller cannot probe for the ids of other workspaces. With authentication on, every
route under a workspace's URL needs a credential, the open ones (health, version) included."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from typing import Any

import orjson

from baton.errors import BatonError, http_answer
from baton.server.auth.principal import Principal
from baton.server.context import ServerContext
from baton.server.permissions import SIGNED_IN
from baton.server.workspaces import WorkspaceReference, not_found, workspace_of

#: Identifies the caller and checks a permission of its global role (`AccessControl.admit` for one request).
Admit = Callable[[str | None], Awaitable[Principal]]


async def admit_to_workspace(
    context: ServerContext, reference: WorkspaceReference, permission: str | None, admit: Admit
) -> tuple[ServerContext, Principal]:
    """The workspace's context and the caller, with the role it holds there; ObjectNotFound (404) for a workspace
    that does not exist or that the caller has no role in, PermissionDenied (403) when that role lacks
    `permission`."""
    workspace_id = await context.workspaces.resolve(reference)
    access = context.access
    # Under a workspace's URL even the open routes (health, version) need a role there: their answer would tell
    # that the workspace exists.
    principal = await admit(None if permission is None else SIGNED_IN)
    if access.enabled and permission is not None:
        role = await context.workspaces.role_of(workspace_id, principal)
        if role is None:
            raise not_found(reference)
        principal = dataclasses.replace(principal, role=role, permissions=access.role_permissions(role))
        access.authorize(principal, permission)
    return context.for_workspace(workspace_id), principal


async def bind_socket_to_workspace(handler: Any, permission: str | None) -> bool:
    """Before a websocket upgrade under a workspace's URL, bind the handler's `context` and `principal` to that
    workspace (the credential must come with the upgrade request there, not in an auth message); answer a refusal
    and return False when the caller may not. True at once for a socket under /api."""
    # Imported here: the API handlers' base imports this module.
    from baton.server.api.base import request_cookies

    reference = workspace_of(handler.request)
    if reference is None:
        return True
    request = handler.request

    async def admit(needed: str | None) -> Principal:
        return await handler.context.access.admit(
            "GET", needed, request.headers, request_cookies(request), host=request.host
        )

    try:
        handler.context, handler.principal = await admit_to_workspace(handler.context, reference, permission, admit)
    except BatonError as error:
        answer = http_answer(error)
        handler.set_status(answer.status)
        handler.set_header("Content-Type", "application/json")
        handler.finish(orjson.dumps({"detail": answer.message}))
        return False
    return True
