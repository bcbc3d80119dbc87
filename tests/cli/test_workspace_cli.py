"""`baton workspace ...` and BATON_WORKSPACE against a real `baton server start` with authentication on: the admin
commands, members by user and service-account name, and the other commands sent to the chosen workspace."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner, Result

from baton.accounts import DEFAULT_ACCOUNT_ID
from baton.cli.main import cli
from tests.acceptance.conftest import ISOLATED_PREFIXES, AuthServer, baton_server_with_auth, clean_environ
from tests.databases import SINGLE_DIALECT, TemplateDatabases

PASSWORD = "s3cret password"


@pytest.fixture(scope="module")
def server(template_databases: TemplateDatabases, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AuthServer]:
    yield from baton_server_with_auth(
        SINGLE_DIALECT, template_databases, tmp_path_factory, roles=("admin", "developer")
    )


@pytest.fixture(scope="module")
def admin_api(server: AuthServer) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {server.keys['admin'].key}"}
    with httpx.Client(base_url=server.server.api_url, headers=headers, timeout=10) as client:
        yield client


def _environ(server: AuthServer, home: Path, role: str = "admin", **extra: str) -> dict[str, str]:
    return clean_environ(
        BATON_HOME=str(home), BATON_API_URL=server.server.api_url, BATON_API_KEY=server.keys[role].key, **extra
    )


def run(env: dict[str, str], *args: str, stdin: str | None = None, code: int = 0) -> Result:
    """`baton ARGS` in this process, with exactly `env` as the BATON_ settings."""
    inherited = [key for key in os.environ if key.startswith(ISOLATED_PREFIXES)]
    environ: dict[str, str | None] = {**dict.fromkeys(inherited), **env}
    result = CliRunner().invoke(cli, list(args), input=stdin, env=environ, catch_exceptions=False)
    assert result.exit_code == code, f"{args}: {result.exit_code}\n{result.stdout}\n{result.stderr}"
    return result


def rows(stdout: str) -> list[list[str]]:
    return [line.split() for line in stdout.splitlines()[1:]]


def _workspace_url(server: AuthServer, workspace_id: str) -> str:
    return f"{server.server.api_url}/accounts/{DEFAULT_ACCOUNT_ID}/workspaces/{workspace_id}"


def _make_flow_run(api: httpx.Client, base: str, name: str) -> dict[str, Any]:
    flow = api.post(f"{base}/flows/", json={"name": f"{name}-flow"})
    assert flow.status_code in (200, 201), flow.text
    run_ = api.post(f"{base}/flow_runs/", json={"flow_id": flow.json()["id"], "name": name})
    assert run_.status_code in (200, 201), run_.text
    return dict(run_.json())


def test_create_list_inspect_rename_and_delete(server: AuthServer, tmp_path: Path) -> None:
    env = _environ(server, tmp_path)
    out = run(env, "workspace", "create", "crud-a", "--description", "Team A's flows").stdout
    assert out.startswith("Created workspace 'crud-a' (")
    run(env, "workspace", "create", "crud-b")
    assert "already exists" in run(env, "workspace", "create", "crud-a", code=1).stderr

    listed = rows(run(env, "workspace", "ls").stdout)
    assert [row[0] for row in listed if row[0].startswith("crud-")] == ["crud-a", "crud-b"]
    as_json = json.loads(run(env, "workspace", "ls", "--json").stdout)
    ids = {row["name"]: row["id"] for row in as_json}
    assert {"crud-a", "crud-b"} <= set(ids)

    shown = run(env, "workspace", "inspect", "crud-a").stdout
    assert "Team A's flows" in shown and ids["crud-a"] in shown and str(DEFAULT_ACCOUNT_ID) in shown
    by_id = json.loads(run(env, "workspace", "inspect", ids["crud-a"], "--json").stdout)
    assert by_id["name"] == "crud-a"
    assert "No workspace is named 'nope'" in run(env, "workspace", "inspect", "nope", code=1).stderr

    run(env, "workspace", "rename", "crud-b", "crud-c")
    assert json.loads(run(env, "workspace", "inspect", "crud-c", "--json").stdout)["id"] == ids["crud-b"]

    # Without -y it asks; "n" keeps the workspace (exit code 1, as click's abort), "y" deletes it.
    refused = run(env, "workspace", "delete", "crud-a", stdin="n\n", code=1)
    assert "Delete workspace 'crud-a' and every object in it?" in refused.stdout
    assert json.loads(run(env, "workspace", "inspect", "crud-a", "--json").stdout)["id"] == ids["crud-a"]
    run(env, "workspace", "delete", "crud-a", stdin="y\n")
    assert "Deleted workspace 'crud-c'." in run(env, "workspace", "delete", "crud-c", "-y").stdout
    remaining = [row[0] for row in rows(run(env, "workspace", "ls").stdout)]
    assert "crud-a" not in remaining and "crud-c" not in remaining
    assert "No workspace is named 'crud-a'" in run(env, "workspace", "delete", "crud-a", "-y", code=1).stderr


def test_members_by_user_and_service_account_name(server: AuthServer, admin_api: httpx.Client, tmp_path: Path) -> None:
    env = _environ(server, tmp_path)
    made = admin_api.post("/users/", json={"name": "bob", "role": "viewer", "password": PASSWORD})
    assert made.status_code == 201, made.text
    bob_id = made.json()["id"]
    run(env, "workspace", "create", "members-a")
    assert "has no members" in run(env, "workspace", "members", "ls", "members-a").stdout

    out = run(env, "workspace", "members", "add", "members-a", "bob", "--role", "developer").stdout
    assert out.strip() == "Gave user 'bob' the role 'developer' in workspace 'members-a'."
    out = run(env, "workspace", "members", "add", "members-a", "developer-account", "--role", "operator").stdout
    assert out.strip() == "Gave service account 'developer-account' the role 'operator' in workspace 'members-a'."
    # Again with another role: the role is replaced, and an id names the account too.
    run(env, "workspace", "members", "add", "members-a", bob_id, "--role", "viewer")

    listed = rows(run(env, "workspace", "members", "ls", "members-a").stdout)
    assert [row[:4] for row in listed] == [
        ["bob", "user", "viewer", bob_id],
        ["developer-account", "service", "account", "operator"],
    ]
    as_json = json.loads(run(env, "workspace", "members", "ls", "members-a", "--json").stdout)
    assert {(row["member_id"], row["role"]) for row in as_json} >= {(bob_id, "viewer")}

    assert "No user or service account is named 'carol'" in (
        run(env, "workspace", "members", "add", "members-a", "carol", "--role", "viewer", code=1).stderr
    )
    assert "no role named 'wizard'" in (
        run(env, "workspace", "members", "add", "members-a", "bob", "--role", "wizard", code=1).stderr
    )
    assert "No workspace is named 'nope'" in (
        run(env, "workspace", "members", "add", "nope", "bob", "--role", "viewer", code=1).stderr
    )

    out = run(env, "workspace", "members", "rm", "members-a", "bob").stdout
    assert out.strip() == "Removed user 'bob' from workspace 'members-a'."
    assert [row[0] for row in rows(run(env, "workspace", "members", "ls", "members-a").stdout)] == ["developer-account"]
    assert "not a member" in run(env, "workspace", "members", "rm", "members-a", "bob", code=1).stderr
    stored = admin_api.get(f"/workspaces/{as_json[0]['workspace_id']}/members").json()
    assert [row["member_id"] for row in stored] == [server_account_id(admin_api, "developer-account")]


def server_account_id(api: httpx.Client, name: str) -> str:
    accounts = api.post("/service_accounts/filter", json={"name_like": name}).json()
    return str(next(row["id"] for row in accounts if row["name"] == name))


def test_a_non_admin_is_refused_the_workspace_commands(server: AuthServer, tmp_path: Path) -> None:
    env = _environ(server, tmp_path, role="developer")
    for args in (("ls",), ("create", "mine"), ("inspect", "x"), ("members", "ls", "x")):
        error = run(env, "workspace", *args, code=1).stderr
        assert error.startswith("Error: ") and "workspace:" in error, error
        assert "Traceback" not in error


def test_baton_workspace_sends_the_commands_to_that_workspace(
    server: AuthServer, admin_api: httpx.Client, tmp_path: Path
) -> None:
    env = _environ(server, tmp_path)
    run(env, "workspace", "create", "scoped-a")
    workspace_id = json.loads(run(env, "workspace", "inspect", "scoped-a", "--json").stdout)["id"]
    in_default = _make_flow_run(admin_api, server.server.api_url, "default-run")
    in_a = _make_flow_run(admin_api, _workspace_url(server, workspace_id), "scoped-run")

    default_runs = [row[0] for row in rows(run(env, "flow-run", "ls").stdout)]
    assert in_default["id"] in default_runs and in_a["id"] not in default_runs
    scoped = {**env, "BATON_WORKSPACE": "scoped-a"}
    assert [row[0] for row in rows(run(scoped, "flow-run", "ls").stdout)] == [in_a["id"]]
    by_id = {**env, "BATON_WORKSPACE": workspace_id}
    assert [row[0] for row in rows(run(by_id, "flow-run", "ls").stdout)] == [in_a["id"]]

    # A variable set in the workspace is there only; the global commands still answer at /api.
    run(scoped, "variable", "set", "region", "eu")
    assert run(scoped, "variable", "get", "region").stdout.strip() == "eu"
    assert "No variable is named 'region'" in run(env, "variable", "get", "region", code=1).stderr
    assert "scoped-a" in run(scoped, "workspace", "ls").stdout
    assert admin_api.get(f"{_workspace_url(server, workspace_id)}/variables/name/region").json()["value"] == "eu"

    error = run({**env, "BATON_WORKSPACE": "nope"}, "flow-run", "ls", code=1).stderr
    assert "The workspace 'nope' (BATON_WORKSPACE) does not exist" in error
    assert "baton config unset BATON_WORKSPACE" in error

    # `workspace use` stores it in the profile; --default goes back.
    assert "now works in workspace 'scoped-a'" in run(env, "workspace", "use", "scoped-a").stdout
    assert "BATON_WORKSPACE='scoped-a'" in run(env, "config", "view").stdout
    assert [row[0] for row in rows(run(env, "flow-run", "ls").stdout)] == [in_a["id"]]
    assert (
        "The workspace 'nope' (BATON_WORKSPACE) does not exist" in run(env, "workspace", "use", "nope", code=1).stderr
    )
    run(env, "workspace", "use", "--default")
    assert in_default["id"] in [row[0] for row in rows(run(env, "flow-run", "ls").stdout)]


def test_a_member_names_its_workspace_by_id(server: AuthServer, admin_api: httpx.Client, tmp_path: Path) -> None:
    admin = _environ(server, tmp_path / "admin")
    made = admin_api.post("/workspaces/", json={"name": "member-only"}).json()
    in_ws = _make_flow_run(admin_api, _workspace_url(server, made["id"]), "member-run")
    developer = _environ(server, tmp_path / "developer", role="developer", BATON_WORKSPACE=made["id"])
    # Not a member yet: the server answers as for a workspace that does not exist.
    assert "not found" in run(developer, "flow-run", "ls", code=1).stderr
    run(admin, "workspace", "members", "add", "member-only", "developer-account", "--role", "viewer")
    assert [row[0] for row in rows(run(developer, "flow-run", "ls").stdout)] == [in_ws["id"]]
    # Only admins may look a workspace up by name.
    by_name = {**developer, "BATON_WORKSPACE": "member-only"}
    assert "set BATON_WORKSPACE to the workspace's id" in run(by_name, "flow-run", "ls", code=1).stderr
    # `workspace use` checks that the member may use it, by id; not by name.
    profile_only = {key: value for key, value in developer.items() if key != "BATON_WORKSPACE"}
    assert "set BATON_WORKSPACE to the workspace's id" in (
        run(profile_only, "workspace", "use", "member-only", code=1).stderr
    )
    run(profile_only, "workspace", "use", made["id"])
    assert [row[0] for row in rows(run(profile_only, "flow-run", "ls").stdout)] == [in_ws["id"]]
    run(admin, "workspace", "members", "rm", "member-only", "developer-account")
    assert "not found" in run(profile_only, "workspace", "use", made["id"], code=1).stderr
