"""Pages of a workspace: the default workspace's pages are at their plain paths (`/runs`), another workspace's under
`/workspaces/{workspace_id}` (`/workspaces/{id}/runs`, routed by `baton.server.workspaces.route_to_workspace_page`).

Global pages (users, roles, the workspaces themselves, sign-in...) are never under a workspace's address. A page of a
workspace keeps its workspace in every link it renders (`prefix_workspace_urls`), and its scripts call the
workspace's API (the layout's `<body data-workspace-path data-api-base>`, read by baton.js).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from urllib.parse import urlencode

from baton.server.auth.principal import Principal
from baton.server.workspaces import DEFAULT_ACCOUNT_ID, WorkspaceDirectory
from baton.webui.navigation import NAVIGATION

#: The first path segments of the pages that belong to no workspace (and of what is no page at all).
GLOBAL_PAGE_SEGMENTS = frozenset(
    {
        "users",
        "service-accounts",
        "roles",
        "audit",
        "account",
        "login",
        "logout",
        "settings",
        "workspaces",
        "workspace-settings",
        "ui-static",
        "api",
        "docs",
        "metrics",
    }
)
#: The first path segments of the API's global routes, served at /api only (baton.server.app.GLOBAL_API_MODULES).
GLOBAL_API_SEGMENTS = frozenset({"me", "users", "service_accounts", "roles", "audit", "workspaces"})
#: Where the switcher sends a caller from a global page.
DEFAULT_SECTION = "/runs"
# A workspace server holds tens of workspaces; the switch page lists at most this many.
MAX_SWITCHABLE = 200
#: The sidebar's switcher shows at most this many workspaces (the default one first, the current one always) and
#: links to the switch page for the rest: every page carries the switcher, and 50 entries made a workspace's page
#: 5 KiB bigger and slower to render.
SWITCHER_ENTRIES = 8
#: The page that lists every workspace the caller may switch to.
SWITCH_PAGE_PATH = "/workspaces/switch"
# Written right before a link's URL attribute (`<a data-workspace-link href="...">`), it says that the URL names its
# workspace itself (the switcher's links): that URL is left alone.
OWN_WORKSPACE_ATTRIBUTE = "data-workspace-link"

# A link to a workspace's page: after "=" and its quote, the value of one of baton.server.base_path's URL attributes
# that is an application path (not "//" or "/\\") whose first segment is not a global page's (`in_workspace`'s rule,
# in the pattern), unless the attribute follows OWN_WORKSPACE_ATTRIBUTE. One pass over the page, the prefix inserted
# from a template with no Python call per link; the pattern starts with the literal "=" and next checks for a quote and
# a "/", which most "=" of a page fail at once, before it looks behind for the attribute's name (trying the names at
# every character, or calling a function per link, was slower).
_URL_ATTRIBUTE_NAMES = ("href", "src", "action", "formaction", "data-then", "data-stream-url")
_WORKSPACE_LINK = re.compile(
    "=(?=[\"']/)(?:"
    + "|".join(rf"(?<=\s{name}=)(?<!{OWN_WORKSPACE_ATTRIBUTE}\s{name}=)" for name in _URL_ATTRIBUTE_NAMES)
    + r")([\"'])(/(?![/\\])(?!(?:"
    + "|".join(sorted(re.escape(segment) for segment in GLOBAL_PAGE_SEGMENTS))
    + r""")(?:[/?#"']|$))[^"']*)"""
)


def first_segment(path: str) -> str:
    return path.split("?", 1)[0].split("#", 1)[0].lstrip("/").split("/", 1)[0]


def is_global_path(path: str) -> bool:
    """Whether the application path `path` is a page of no workspace (or no page)."""
    return first_segment(path) in GLOBAL_PAGE_SEGMENTS


def page_prefix(workspace_id: uuid.UUID | str | None) -> str:
    """The path the pages of a workspace are under; empty for the default workspace."""
    return f"/workspaces/{workspace_id}" if workspace_id is not None else ""


def api_base(workspace_id: uuid.UUID | str | None) -> str:
    """The API root of a workspace (`/api` for the default workspace)."""
    if workspace_id is None:
        return "/api"
    return f"/api/accounts/{DEFAULT_ACCOUNT_ID}/workspaces/{workspace_id}"


def in_workspace(prefix: str, url: str) -> str:
    """`url` as a page of the workspace under `prefix` links to it: an application path of a workspace's page gets the
    prefix; a global page, a full URL or a relative reference is left as it is."""
    if not prefix or not url.startswith("/") or url.startswith(("//", "/\\")) or is_global_path(url):
        return url
    return prefix + url


def prefix_workspace_urls(prefix: str, html: str) -> str:
    """`html` with every link to a workspace's page (see `in_workspace`) kept in the workspace under `prefix`, except
    the URLs written right after `OWN_WORKSPACE_ATTRIBUTE`."""
    if not prefix:
        return html
    return _WORKSPACE_LINK.sub("=\\1" + prefix.replace("\\", "\\\\") + "\\2", html)


def section_path(path: str) -> str:
    """Where switching workspaces leads from the page at `path`: the sidebar entry `path` is under (the same list
    page, since an object's page names an object of the other workspace), or the runs page from a global page."""
    if is_global_path(path):
        return DEFAULT_SECTION
    entry = next((entry for entry in NAVIGATION if entry.is_current(path)), None)
    if entry is None:
        return DEFAULT_SECTION
    if path == entry.path or path in entry.also:
        return path
    return entry.path


@dataclass(frozen=True)
class WorkspaceChoice:
    """A workspace the switcher offers: None as `id` for the default workspace."""

    id: uuid.UUID | None
    name: str

    def url(self, section: str) -> str:
        return page_prefix(self.id) + section


DEFAULT_CHOICE = WorkspaceChoice(None, "Default workspace")


async def switchable_workspaces(
    directory: WorkspaceDirectory, principal: Principal, *, everyone: bool
) -> list[WorkspaceChoice]:
    """The workspaces the caller holds a role in, the default workspace first: all of them for an admin or when
    `everyone` (authentication off); none for a visitor who has not signed in."""
    if principal.is_anonymous and not everyone:
        return []
    rows = await directory.visible_to(principal, everyone=everyone, limit=MAX_SWITCHABLE)
    return [DEFAULT_CHOICE, *(WorkspaceChoice(row["id"], row["name"]) for row in rows)]


def switcher_entries(choices: list[WorkspaceChoice], current: uuid.UUID | None) -> list[WorkspaceChoice]:
    """The first SWITCHER_ENTRIES of `choices` (the default workspace first), with the current workspace in place of
    the last one when it is not among them."""
    shown = choices[:SWITCHER_ENTRIES]
    if len(choices) > len(shown) and all(choice.id != current for choice in shown):
        here = next((choice for choice in choices if choice.id == current), None)
        if here is not None:
            shown[-1] = here
    return shown


def switch_page_url(section: str) -> str:
    """The switch page's address for a caller who will land on `section` in the workspace they choose."""
    return f"{SWITCH_PAGE_PATH}?{urlencode({'section': section})}"
