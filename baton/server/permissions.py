"""What a caller may do: the catalogue of permissions (`<resource>:<verb>`), the built-in roles, and how a route
declares the permission each of its HTTP methods needs.

Every API handler, UI page and websocket names what it needs with the class attribute `permission` (see
`route_permission`); a test walks the route table and fails on a route that names nothing. A route open to everyone
(health, version, the login page, static files) says so with `PUBLIC`; one that only needs a signed-in caller of any
role (who am I, change my password) with `SIGNED_IN`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Final

#: Open without credentials, even with authentication on.
PUBLIC: Final = "public"
#: Any authenticated caller, whatever its role.
SIGNED_IN: Final = "signed-in"

#: resource -> its verbs. `read` lists and reads, `write` creates, changes and deletes; the others are named below.
RESOURCES: Final[Mapping[str, tuple[str, ...]]] = {
    "flow": ("read", "write"),
    # run: change a run's state (cancel, retry, pause, resume, suspend) and answer its inputs.
    "flow_run": ("read", "write", "run"),
    "task_run": ("read", "write"),
    # run: start a run of a deployment.
    "deployment": ("read", "write", "run"),
    # poll: what a worker does (take scheduled runs, heartbeat, the worker channel).
    "work_pool": ("read", "write", "poll"),
    # secrets: read a block's secret values (include_secrets=true).
    "block": ("read", "write", "secrets"),
    "variable": ("read", "write"),
    # use: take and release slots.
    "concurrency_limit": ("read", "write", "use"),
    "artifact": ("read", "write"),
    "log": ("read", "write"),
    "event": ("read", "write"),
    "automation": ("read", "write"),
    "notification": ("read", "write"),
    "saved_search": ("read", "write"),
    "user": ("read", "write"),
    "service_account": ("read", "write"),
    "role": ("read", "write"),
    "audit": ("read",),
    # read and write: the workspaces themselves and who holds which role in each (an admin's business).
    "workspace": ("read", "write"),
    # read: server settings and storage; write: server-wide defaults.
    "server": ("read", "write"),
    # read: the Prometheus metrics at /metrics.
    "metrics": ("read",),
}

ALL_PERMISSIONS: Final[frozenset[str]] = frozenset(
    f"{resource}:{verb}" for resource, verbs in RESOURCES.items() for verb in verbs
)

_IDENTITY = ("user", "service_account", "role", "audit", "workspace")
_READS = frozenset(f"{resource}:read" for resource in RESOURCES if resource not in _IDENTITY)

BUILT_IN_ROLES: Final[Mapping[str, frozenset[str]]] = {
    "admin": ALL_PERMISSIONS,
    "developer": _READS
    | {
        f"{resource}:{verb}"
        for resource in RESOURCES
        if resource not in (*_IDENTITY, "server")
        for verb in RESOURCES[resource]
    },
    "operator": _READS | {"flow_run:run", "deployment:run"},
    "viewer": _READS,
    # What `prefect worker`, `baton worker` and a running flow call: poll a pool, heartbeat, read the deployment and
    # flow, create and report flow and task runs, logs, events and artifacts, take concurrency slots, read blocks
    # with their secrets, variables and the default result storage (/admin/storage), and wait on task runs through
    # /events/out. Not: creating a missing pool (`--pool` of one that does not exist) or `run_deployment` from a flow.
    "worker": frozenset(
        {
            "flow:read",
            "flow:write",
            "flow_run:read",
            "flow_run:write",
            "flow_run:run",
            "task_run:read",
            "task_run:write",
            "deployment:read",
            "work_pool:read",
            "work_pool:poll",
            "block:read",
            "block:secrets",
            "variable:read",
            "concurrency_limit:read",
            "concurrency_limit:use",
            "artifact:read",
            "artifact:write",
            "log:write",
            "event:read",
            "event:write",
            "server:read",
        }
    ),
}

ROLE_DESCRIPTIONS: Final[Mapping[str, str]] = {
    "admin": "Everything, including users, roles, keys and the audit log.",
    "developer": "Create and change flows, deployments, blocks, variables, automations and limits; read secrets.",
    "operator": "Read everything but secret values; run, cancel, retry, pause and resume runs.",
    "viewer": "Read only; never secret values.",
    "worker": "What a worker and a running flow need: poll pools, report runs, logs and events, take slots.",
}


def unknown_permissions(permissions: Iterable[str]) -> list[str]:
    """The entries of `permissions` that are not in the catalogue."""
    return sorted(set(permissions) - ALL_PERMISSIONS)


#: What a handler class's `permission` attribute may hold: one permission for every method it answers, or a
#: permission per HTTP method.
PermissionSpec = str | Mapping[str, str]


def route_permission(handler_class: type, method: str) -> str | None:
    """The permission `handler_class` declares for `method` (HEAD as GET); None if it declares none."""
    spec = getattr(handler_class, "permission", None)
    if spec is None:
        return None
    if isinstance(spec, str):
        return spec
    method = "GET" if method == "HEAD" else method
    return spec.get(method)


def is_valid_declaration(permission: str) -> bool:
    return permission in (PUBLIC, SIGNED_IN) or permission in ALL_PERMISSIONS
