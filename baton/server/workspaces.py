"""Workspaces at the server level: making and deleting one (its row and its store together), and resolving the
workspace a request's URL names, with the caller's role in it.

A request under `/api/accounts/{account_id}/workspaces/{workspace_id}/...` is answered by the same handler as its
`/api/...` twin, with the handler's context (and so its unit of work) bound to that workspace: see
`ApiHandler.prepare` and `WorkspaceRouting`.
"""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from dataclasses import dataclass
from typing import Any

from tornado import httputil

from baton.accounts import DEFAULT_ACCOUNT_ID
from baton.errors import ObjectNotFound
from baton.server.auth.principal import Principal
from baton.server.database.engine import Database
from baton.server.database.workspace_stores import create_workspace_store, drop_workspace_store
from baton.server.models import workspaces as models

# How long a process trusts what it read about a workspace or a membership: another process's deletion or role
# change is seen within this (this process's own at once).
WORKSPACE_CACHE_SECONDS = 1.0

_WORKSPACE_PATH = re.compile(r"^/api/accounts/(?P<account_id>[^/?]+)/workspaces/(?P<workspace_id>[^/?]+)(?P<rest>.*)$")
# A page of a workspace: `/workspaces/{workspace_id}/runs`. Only an id-shaped segment names a workspace, so that the
# admin pages' own addresses under /workspaces stay free.
_WORKSPACE_PAGE_PATH = re.compile(r"^/workspaces/(?P<workspace_id>[0-9A-Fa-f-]{32,36})(?P<rest>/.*)?$")
# What is never served as a workspace's page: the API (its workspaces have their own URLs), static files, the docs.
_NOT_PAGES = ("/api", "/ui-static/", "/docs", "/metrics")
# The attribute of a Tornado request that carries the workspace its URL named (set by `WorkspaceRouting`).
REQUEST_WORKSPACE_ATTRIBUTE = "baton_workspace"


@dataclass(frozen=True)
class WorkspaceReference:
    """The `{account_id}` and `{workspace_id}` of a workspace URL, as written (not yet checked)."""

    account_id: str
    workspace_id: str


def route_to_workspace(request: httputil.HTTPServerRequest) -> None:
    """Turn a workspace URL's path into its `/api/...` twin and keep the workspace it named on the request; leaves
    other requests alone. Called before routing."""
    match = _WORKSPACE_PATH.match(request.path)
    if match is None:
        return
    rest = match.group("rest")
    if rest and not rest.startswith("/"):
        return
    setattr(
        request, REQUEST_WORKSPACE_ATTRIBUTE, WorkspaceReference(match.group("account_id"), match.group("workspace_id"))
    )
    request.path = "/api" + rest
    query = request.uri.split("?", 1)[1] if request.uri and "?" in request.uri else None
    request.uri = request.path + (f"?{query}" if query is not None else "")


def route_to_workspace_page(request: httputil.HTTPServerRequest) -> None:
    """Turn the path of a workspace's page (`/workspaces/{id}/runs`) into the page's own path (`/runs`) and keep the
    workspace it named on the request, as `route_to_workspace` does for the API; leaves other requests alone. Called
    before routing."""
    match = _WORKSPACE_PAGE_PATH.match(request.path)
    if match is None:
        return
    rest = match.group("rest") or "/"
    if rest.startswith(_NOT_PAGES) or rest == "/api":
        return
    setattr(
        request, REQUEST_WORKSPACE_ATTRIBUTE, WorkspaceReference(str(DEFAULT_ACCOUNT_ID), match.group("workspace_id"))
    )
    request.path = rest
    query = request.uri.split("?", 1)[1] if request.uri and "?" in request.uri else None
    request.uri = request.path + (f"?{query}" if query is not None else "")


def workspace_of(request: httputil.HTTPServerRequest) -> WorkspaceReference | None:
    """The workspace a request's URL named; None for a request to `/api`."""
    return getattr(request, REQUEST_WORKSPACE_ATTRIBUTE, None)


def not_found(reference: WorkspaceReference) -> ObjectNotFound:
    """The one answer for a workspace that does not exist and for one the caller has no role in (so that a caller
    cannot tell them apart)."""
    return ObjectNotFound(f"Workspace {reference.workspace_id} not found in account {reference.account_id}.")


class WorkspaceDirectory:
    """Which workspaces exist and who holds a role in each, read from the main database with a short cache."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self._workspaces: dict[uuid.UUID, tuple[float, uuid.UUID | None]] = {}
        self._roles: dict[tuple[uuid.UUID, uuid.UUID], tuple[float, str | None]] = {}
        self._visible: dict[uuid.UUID | None, tuple[float, list[dict[str, Any]]]] = {}
        # One read at a time refreshes what expired: the requests that find it expired meanwhile wait for that read
        # instead of each sending the same query (32 concurrent requests were 32 reads a second).
        self._refreshing = asyncio.Lock()

    async def resolve(self, reference: WorkspaceReference) -> uuid.UUID:
        """The id of the workspace `reference` names; ObjectNotFound when it names none."""
        try:
            workspace_id = uuid.UUID(reference.workspace_id)
            account_id = uuid.UUID(reference.account_id)
        except ValueError:
            raise not_found(reference) from None
        if not await self.exists(workspace_id) or self._workspaces[workspace_id][1] != account_id:
            raise not_found(reference)
        return workspace_id

    async def exists(self, workspace_id: uuid.UUID) -> bool:
        """Whether workspace `workspace_id` exists (as of at most WORKSPACE_CACHE_SECONDS ago). Every workspace is
        read at once: the actors ask for each of their messages, and each workspace has a few messages a second."""
        cached = self._workspaces.get(workspace_id)
        if cached is None or cached[0] < time.monotonic():
            async with self._refreshing:
                cached = self._workspaces.get(workspace_id)
                if cached is None or cached[0] < time.monotonic():
                    async with self.database.read() as connection:
                        accounts = await models.read_workspace_accounts(connection)
                    expires = time.monotonic() + WORKSPACE_CACHE_SECONDS
                    self._workspaces = {each: (expires, account) for each, account in accounts.items()}
                    cached = self._workspaces.setdefault(workspace_id, (expires, None))
        return cached[1] is not None

    async def role_of(self, workspace_id: uuid.UUID, principal: Principal) -> str | None:
        """The role `principal` holds in the workspace: an admin of the server is one in every workspace; others
        hold the role they were given there, or none."""
        if principal.role == "admin" or principal.is_anonymous:
            return principal.role
        if principal.id is None:
            return None
        key = (workspace_id, principal.id)
        cached = self._roles.get(key)
        if cached is None or cached[0] < time.monotonic():
            async with self._refreshing:
                cached = self._roles.get(key)
                if cached is None or cached[0] < time.monotonic():
                    async with self.database.read() as connection:
                        role = await models.read_member_role(connection, workspace_id, principal.id)
                    cached = (time.monotonic() + WORKSPACE_CACHE_SECONDS, role)
                    self._roles[key] = cached
        return cached[1]

    async def visible_to(self, principal: Principal, *, everyone: bool, limit: int) -> list[dict[str, Any]]:
        """The workspaces (at most `limit`, by name) `principal` holds a role in: all of them for an admin or when
        `everyone` (authentication off), none for a visitor who has not signed in. Read at most every
        WORKSPACE_CACHE_SECONDS per caller: the web UI's switcher asks on every page."""
        if principal.is_anonymous and not everyone:
            return []
        every = everyone or principal.role == "admin"
        if not every and principal.id is None:
            return []
        key = None if every else principal.id
        cached = self._visible.get(key)
        if cached is None or cached[0] < time.monotonic():
            async with self.database.read() as connection:
                if key is None:
                    rows = await models.read_workspaces(connection, name_like=None, limit=limit, offset=0)
                else:
                    rows = await models.read_member_workspaces(connection, key)
            cached = (time.monotonic() + WORKSPACE_CACHE_SECONDS, rows[:limit])
            self._visible[key] = cached
        return cached[1]

    def forget(self) -> None:
        """Drop what is cached (after this process changed a workspace or a membership)."""
        self._workspaces.clear()
        self._roles.clear()
        self._visible.clear()


async def create_workspace(database: Database, name: str, description: str) -> dict[str, Any]:
    """Make a workspace: its store at the head revision with the system blocks, then its row; the store is removed
    again when the row cannot be written. ObjectAlreadyExists for a name in use.

    The row comes last so that a workspace whose row can be read always has its store: the actors send the periodic
    jobs to every workspace with a row, and the API admits requests to it."""
    from baton.server.blocks import register_system_blocks

    workspace_id = uuid.uuid4()
    try:
        store = await create_workspace_store(database, workspace_id)
        await register_system_blocks(store)
        async with database.write() as connection:
            return await models.create_workspace(connection, DEFAULT_ACCOUNT_ID, name, description, workspace_id)
    except BaseException:
        await drop_workspace_store(database, workspace_id)
        raise


async def delete_workspace(database: Database, workspace_id: uuid.UUID) -> dict[str, Any]:
    """Delete a workspace: its row and members (so that it stops answering at once), then its whole store.
    ObjectNotFound when there is none."""
    async with database.write() as connection:
        row = await models.delete_workspace(connection, workspace_id)
    await drop_workspace_store(database, workspace_id)
    return row
