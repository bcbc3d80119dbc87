"""The sidebar's entries and the URLs of the UI's static files."""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from pathlib import Path

from baton.server.auth.principal import Principal

STATIC_PATH = Path(__file__).parent / "static"
STATIC_PREFIX = "/ui-static/"


@dataclass(frozen=True)
class NavigationEntry:
    label: str
    path: str
    #: The permission the page needs; the sidebar leaves the entry out for a caller without it.
    permission: str
    #: Other paths under which the entry is the current one (a tab of its page with a path of its own).
    also: tuple[str, ...] = ()

    def visible_to(self, principal: Principal) -> bool:
        return principal.may(self.permission)

    def is_current(self, request_path: str) -> bool:
        if self.path == "/":
            return request_path == "/"
        return any(request_path == path or request_path.startswith(path + "/") for path in (self.path, *self.also))


NAVIGATION = (
    NavigationEntry("Dashboard", "/", "flow_run:read"),
    NavigationEntry("Runs", "/runs", "flow_run:read", also=("/task-runs",)),
    NavigationEntry("Flows", "/flows", "flow:read"),
    NavigationEntry("Deployments", "/deployments", "deployment:read"),
    NavigationEntry("Work Pools", "/work-pools", "work_pool:read"),
    NavigationEntry("Blocks", "/blocks", "block:read"),
    NavigationEntry("Variables", "/variables", "variable:read"),
    NavigationEntry("Artifacts", "/artifacts", "artifact:read"),
    NavigationEntry("Concurrency", "/concurrency", "concurrency_limit:read"),
    NavigationEntry("Notifications", "/notifications", "notification:read"),
    NavigationEntry("Automations", "/automations", "automation:read"),
    NavigationEntry("Events", "/events", "event:read"),
    NavigationEntry("Users", "/users", "user:read"),
    NavigationEntry("Service accounts", "/service-accounts", "service_account:read"),
    NavigationEntry("Roles", "/roles", "role:read"),
    NavigationEntry("Workspaces", "/workspaces", "workspace:read", also=("/workspace-settings",)),
    NavigationEntry("Audit log", "/audit", "audit:read"),
    NavigationEntry("Settings", "/settings", "server:read"),
)


@functools.cache
def _content_hash(name: str) -> str:
    return hashlib.sha256((STATIC_PATH / name).read_bytes()).hexdigest()[:12]


def static_url(name: str) -> str:
    """The URL of a static file with its content hash, so browsers may cache it for a year."""
    return f"{STATIC_PREFIX}{name}?v={_content_hash(name)}"
