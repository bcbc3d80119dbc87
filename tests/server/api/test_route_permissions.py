"""Every route of the whole route table (API, UI, docs, static files) declares the permission each of its HTTP methods
needs, and only permissions of the catalogue (baton.server.permissions)."""

from __future__ import annotations

import re
from typing import cast

import pytest
import tornado.web

from baton.server.app import make_app
from baton.server.context import ServerContext
from baton.server.database.engine import Database
from baton.server.permissions import BUILT_IN_ROLES, PUBLIC, is_valid_declaration, route_permission, unknown_permissions
from baton.settings import Settings
from tests.server.api.route_table import Route, route_table


@pytest.fixture(scope="module")
def routes(tmp_path_factory: pytest.TempPathFactory) -> list[Route]:
    home = tmp_path_factory.mktemp("home")
    # The table is built, never served: the context needs no open database.
    settings = Settings(home=home, api_database_connection_url=f"sqlite+aiosqlite:///{home / 'unused.db'}")
    return route_table(make_app(ServerContext(settings=settings, database=cast(Database, None)), ui=True))


def test_the_table_holds_the_api_the_ui_the_docs_and_static_files(routes: list[Route]) -> None:
    patterns = {route.pattern for route in routes}
    assert len(routes) >= 150
    assert {"/api/flows/?$", "/api/events/out/?$", "/runs/?$", "/docs/?$", "/ui-static/(.*)$"} <= patterns


def declaration_problems(routes: list[Route]) -> list[str]:
    """One line per route and method that declares no permission or one outside the catalogue."""
    problems = []
    for route in routes:
        declared = getattr(route.handler, "permission", None)
        if declared is None:
            problems.append(f"{route}: declares no permission")
            continue
        if isinstance(declared, dict):
            stray = sorted(set(declared) - set(route.methods))
            if stray:
                problems.append(f"{route}: declares a permission for {stray}, which it does not answer")
        for method in route.methods:
            permission = route_permission(route.handler, method)
            if permission is None:
                problems.append(f"{method} {route}: declares no permission")
            elif not is_valid_declaration(permission):
                problems.append(f"{method} {route}: {permission!r} is not in the catalogue")
    return problems


def test_every_route_declares_a_catalogued_permission_for_each_method(routes: list[Route]) -> None:
    problems = declaration_problems(routes)
    assert not problems, "\n".join(problems)


def test_the_check_names_each_route_and_method_that_declares_nothing_or_too_much() -> None:
    class Undeclared(tornado.web.RequestHandler):
        async def get(self) -> None: ...

    class Partly(tornado.web.RequestHandler):
        permission = {"GET": "flow:read", "PUT": "flow:write"}

        async def get(self) -> None: ...

        async def delete(self) -> None: ...

    class Misspelt(tornado.web.RequestHandler):
        permission = "flows:read"

        async def post(self) -> None: ...

    problems = declaration_problems([Route("/a$", Undeclared), Route("/b$", Partly), Route("/c$", Misspelt)])
    assert [problem.split(" (")[0] for problem in problems] == ["/a$", "/b$", "DELETE /b$", "POST /c$"]
    assert "declares no permission" in problems[0]
    assert "['PUT']" in problems[1]
    assert "'flows:read' is not in the catalogue" in problems[3]


def test_the_open_routes_are_a_short_allow_list(routes: list[Route]) -> None:
    public = sorted(
        f"{method} {route.pattern}"
        for route in routes
        for method in route.methods
        if route_permission(route.handler, method) == PUBLIC
    )
    assert public == [
        "GET /api/admin/version/?$",
        "GET /api/csrf-token/?$",
        "GET /api/health/?$",
        "GET /api/hello/?$",
        "GET /api/openapi.json$",
        "GET /api/ready/?$",
        "GET /api/version/?$",
        "GET /docs/?$",
        "GET /login/?$",
        "GET /login/sso/?$",
        "GET /login/sso/callback/?$",
        "GET /ui-static/(.*)$",
        "POST /login/?$",
    ]


def test_secrets_and_server_settings_are_not_for_every_reader(routes: list[Route]) -> None:
    by_pattern = {route.pattern: route.handler for route in routes}
    assert route_permission(by_pattern["/api/admin/settings/?$"], "GET") == "server:read"
    assert route_permission(by_pattern["/api/admin/storage/?$"], "PUT") == "server:write"
    assert "block:secrets" not in BUILT_IN_ROLES["viewer"] | BUILT_IN_ROLES["operator"]
    assert "block:secrets" in BUILT_IN_ROLES["worker"] & BUILT_IN_ROLES["developer"]


def test_built_in_roles_name_only_catalogued_permissions() -> None:
    for role, permissions in BUILT_IN_ROLES.items():
        assert not unknown_permissions(permissions), role


# What `prefect worker`, `baton worker` and a flow run (the Prefect client's engine) call, from their sources.
WORKER_CALLS = (
    "GET /api/work_pools/pool",
    "POST /api/work_pools/pool/workers/heartbeat",
    "POST /api/work_pools/pool/get_scheduled_flow_runs",
    "GET /api/work_pools/pool/workers/connect",
    "POST /api/work_pools/pool/queues/filter",
    "GET /api/collections/views/aggregate-worker-metadata",
    "GET /api/deployments/{id}",
    "GET /api/flows/{id}",
    "POST /api/flows/",
    "POST /api/flow_runs/",
    "GET /api/flow_runs/{id}",
    "PATCH /api/flow_runs/{id}",
    "PATCH /api/flow_runs/{id}/labels",
    "POST /api/flow_runs/{id}/set_state",
    "POST /api/flow_runs/filter",
    "POST /api/flow_runs/{id}/input",
    "POST /api/flow_runs/{id}/input/filter",
    "GET /api/flow_runs/{id}/input/key",
    "DELETE /api/flow_runs/{id}/input/key",
    "POST /api/task_runs/",
    "GET /api/task_runs/{id}",
    "POST /api/task_runs/{id}/set_state",
    "POST /api/task_runs/filter",
    "GET /api/task_runs/subscriptions/scheduled",
    "POST /api/logs/",
    "GET /api/events/in",
    "POST /api/events",
    "GET /api/events/out",
    "GET /api/block_types/slug/secret/block_documents/name/db",
    "GET /api/block_documents/{id}",
    "GET /api/variables/name/region",
    "GET /api/v2/concurrency_limits/name",
    "POST /api/v2/concurrency_limits/increment-with-lease",
    "POST /api/v2/concurrency_limits/decrement-with-lease",
    "POST /api/v2/concurrency_limits/leases/{id}/renew",
    "POST /api/concurrency_limits/increment",
    "POST /api/concurrency_limits/decrement",
    "POST /api/artifacts/",
    "PATCH /api/artifacts/{id}",
    "POST /api/artifacts/filter",
    "GET /api/admin/storage",
)
# What a worker key must not do: change what is deployed, configured or stored, or start runs on its own. (It may
# delete a flow: `flow:write`, which a flow run needs to register its flow, covers both.)
NOT_WORKER_CALLS = (
    "POST /api/work_pools/",
    "DELETE /api/work_pools/pool",
    "POST /api/deployments/",
    "POST /api/deployments/{id}/create_flow_run",
    "POST /api/variables/",
    "POST /api/block_documents/",
    "PUT /api/admin/storage",
    "POST /api/v2/concurrency_limits/",
    "POST /api/flow_run_notification_policies/",
)


def _permission_of(routes: list[Route], call: str) -> str | None:
    method, path = call.split(" ", 1)
    path = path.replace("{id}", "0c6d5e7e-54b4-4d3b-9f7e-0f7c5b1f3a11")
    route = next(route for route in routes if re.match(route.pattern, path))
    return route_permission(route.handler, method)


def test_the_worker_role_covers_what_workers_and_flow_runs_call_and_no_more(routes: list[Route]) -> None:
    worker = BUILT_IN_ROLES["worker"]
    permissions = {call: _permission_of(routes, call) for call in (*WORKER_CALLS, *NOT_WORKER_CALLS)}
    missing = [f"{call} needs {permissions[call]}" for call in WORKER_CALLS if permissions[call] not in worker]
    assert not missing, "\n".join(missing)
    allowed = [call for call in NOT_WORKER_CALLS if permissions[call] in worker]
    assert not allowed, "\n".join(allowed)
    # Block.load asks for the secret values (include_secrets=true), which need block:secrets beyond the route's own.
    unused = worker - {permissions[call] for call in WORKER_CALLS} - {"block:secrets"}
    assert not unused, f"the worker role grants {sorted(unused)}, which no worker or flow run call needs"
