"""Which workspace a client works in: a workspace named by id or name (BATON_WORKSPACE) turned into the path prefix
of its API, `accounts/{account_id}/workspaces/{workspace_id}/`."""

from __future__ import annotations

import uuid
from typing import Any, Protocol

from baton.accounts import DEFAULT_ACCOUNT_ID
from baton.errors import Forbidden, ObjectNotFound

# Workspaces asked for per page while looking one up by name (the server's largest page).
LOOKUP_PAGE = 200


class Request(Protocol):
    def __call__(self, method: str, path: str, *, json: Any = None, global_route: bool = False) -> Any: ...


def find_workspace(request: Request, name_or_id: str) -> dict[str, Any]:
    """The workspace with the id or the exact name `name_or_id`; ObjectNotFound when there is none, Forbidden for
    a caller without `workspace:read`."""
    try:
        workspace_id = uuid.UUID(name_or_id)
    except ValueError:
        pass
    else:
        return request("GET", f"/workspaces/{workspace_id}", global_route=True)  # type: ignore[no-any-return]
    offset = 0
    while True:
        body = {"name_like": name_or_id, "limit": LOOKUP_PAGE, "offset": offset}
        rows = request("POST", "/workspaces/filter", json=body, global_route=True)
        for row in rows:
            if row["name"] == name_or_id:
                return row  # type: ignore[no-any-return]
        if len(rows) < LOOKUP_PAGE:
            raise ObjectNotFound(f"No workspace is named {name_or_id!r}; `baton workspace ls` lists them.")
        offset += LOOKUP_PAGE


def workspace_prefix(request: Request, name_or_id: str) -> str:
    """The API path prefix of the workspace `name_or_id`; ObjectNotFound (naming BATON_WORKSPACE) when it does not
    exist. Only admins may read workspaces: any other caller must name its workspace by id, and the server then
    answers 404 for one it holds no role in."""
    try:
        row = find_workspace(request, name_or_id)
    except ObjectNotFound as exc:
        raise ObjectNotFound(
            f"The workspace {name_or_id!r} (BATON_WORKSPACE) does not exist: {exc.message} To work in the default "
            "workspace, run `baton config unset BATON_WORKSPACE`."
        ) from None
    except Forbidden:
        try:
            workspace_id = uuid.UUID(name_or_id)
        except ValueError:
            raise Forbidden(
                f"The workspace {name_or_id!r} (BATON_WORKSPACE) is named by name, and looking a name up needs the "
                "workspace:read permission, which only admins have; set BATON_WORKSPACE to the workspace's id."
            ) from None
        return f"accounts/{DEFAULT_ACCOUNT_ID}/workspaces/{workspace_id}/"
    return f"accounts/{row['account_id']}/workspaces/{row['id']}/"
