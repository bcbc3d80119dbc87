"""`baton user|service-account|role|audit` on a SQLite file database, and `baton login` / the SDK / the worker's
client against a `baton server start` with authentication on, each run as a subprocess the way a user types it."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner, Result

from baton.cli.main import cli
from baton.worker.api import WorkerApi
from tests.acceptance.conftest import ApiServer, _free_port, clean_environ, tail

PASSWORD = "s3cret password"
BOOTSTRAP_KEY = "baton_" + "k" * 40


def _environ(home: Path, **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("BATON_", "PREFECT_"))}
    env["BATON_HOME"] = str(home)
    env["BATON_API_DATABASE_CONNECTION_URL"] = f"sqlite+aiosqlite:///{home / 'baton.db'}"
    env.update(extra)
    return env


def baton(env: dict[str, str], *args: str, stdin: str | None = None, code: int = 0) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "baton", *args], env=env, input=stdin, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == code, f"{args}: {result.returncode}\n{result.stdout}\n{result.stderr}"
    assert "Traceback" not in result.stderr
    return result


def run(env: dict[str, str], *args: str, stdin: str | None = None, code: int = 0) -> Result:
    """`baton ARGS` in this process (click's runner), for the many commands of one test; `baton` runs a subprocess."""
    result = CliRunner().invoke(cli, list(args), input=stdin, env=env, catch_exceptions=False)
    assert result.exit_code == code, f"{args}: {result.exit_code}\n{result.stdout}\n{result.stderr}"
    return result


def _key_in(stdout: str) -> str:
    return next(line.strip() for line in stdout.splitlines() if line.strip().startswith("baton_"))


def test_users_service_accounts_roles_and_audit_on_the_database(tmp_path: Path) -> None:
    env = _environ(tmp_path)
    # The first admin, before any server has run (the database is created and migrated).
    out = baton(env, "user", "create", "alice", "--role", "admin", "--password-stdin", stdin=PASSWORD + "\n").stdout
    assert "Created user 'alice' with the role 'admin'." in out
    assert (
        "already exists"
        in baton(
            env, "user", "create", "alice", "--role", "viewer", "--password-stdin", stdin=PASSWORD + "\n", code=1
        ).stderr
    )
    assert (
        "no role named 'wizard'"
        in baton(
            env, "user", "create", "bob", "--role", "wizard", "--password-stdin", stdin=PASSWORD + "\n", code=1
        ).stderr
    )
    assert (
        "at least 8"
        in run(env, "user", "create", "bob", "--role", "viewer", "--password-stdin", stdin="short\n", code=1).stderr
    )
    run(env, "user", "create", "bob", "--role", "viewer", "--password-stdin", stdin=PASSWORD + "\n")
    rows = [line.split() for line in run(env, "user", "ls").stdout.splitlines()]
    assert [row[:3] for row in rows] == [
        ["NAME", "ROLE", "STATUS"],
        ["alice", "admin", "enabled"],
        ["bob", "viewer", "enabled"],
    ]
    # The last enabled admin stays one.
    assert "last enabled admin" in run(env, "user", "set-role", "alice", "viewer", code=1).stderr
    assert "last enabled admin" in run(env, "user", "disable", "alice", code=1).stderr
    run(env, "user", "set-role", "bob", "operator")
    run(env, "user", "disable", "bob")
    run(env, "user", "enable", "bob")
    run(env, "user", "reset-password", "bob", "--password-stdin", stdin="another password\n")
    assert "no user named 'carol'" in run(env, "user", "disable", "carol", code=1).stderr

    created = run(env, "service-account", "create", "ci", "--role", "worker", "--expires-at", "2099-01-01").stdout
    key = _key_in(created)
    assert "shown only now" in created
    listing = run(env, "service-account", "ls").stdout
    assert key[:12] in listing and key not in listing and "2099-01-01 00:00:00" in listing
    rotated = _key_in(run(env, "service-account", "rotate-key", "ci").stdout)
    assert rotated != key and rotated[:12] in run(env, "service-account", "ls").stdout
    run(env, "service-account", "disable", "ci")
    assert "disabled" in run(env, "service-account", "ls").stdout
    assert (
        "future"
        in baton(
            env, "service-account", "create", "old", "--role", "viewer", "--expires-at", "2001-01-01", code=1
        ).stderr
    )
    run(env, "service-account", "delete", "ci", "-y")
    assert "No service accounts." in run(env, "service-account", "ls").stdout

    assert "Unknown permissions: flow:fly" in run(env, "role", "create", "pilot", "-p", "flow:fly", code=1).stderr
    run(env, "role", "create", "auditor", "-p", "audit:read", "-p", "user:read", "--description", "Reads the log")
    roles = run(env, "role", "ls").stdout
    assert "auditor    custom" in roles and "audit:read, user:read" in roles
    run(env, "user", "set-role", "bob", "auditor")
    assert "hold the role" in run(env, "role", "delete", "auditor", "-y", code=1).stderr
    assert "built-in" in run(env, "role", "delete", "admin", "-y", code=1).stderr
    run(env, "user", "set-role", "bob", "viewer")
    run(env, "role", "delete", "auditor", "-y")
    assert "role:write" in run(env, "role", "ls", "--permissions").stdout

    entries = [json.loads(line) for line in run(env, "audit", "ls", "--json", "--limit", "100").stdout.splitlines()]
    assert {entry["actor_name"] for entry in entries} == {"local-cli"}
    assert {entry["actor_kind"] for entry in entries} == {"cli"}
    actions = [(entry["action"], entry["resource_name"]) for entry in reversed(entries)]
    assert actions == [
        ("user.create", "alice"),
        ("user.create", "bob"),
        ("user.set_role", "bob"),
        ("user.disable", "bob"),
        ("user.enable", "bob"),
        ("user.reset_password", "bob"),
        ("service_account.create", "ci"),
        ("api_key.rotate", "ci"),
        ("service_account.disable", "ci"),
        ("service_account.delete", "ci"),
        ("role.create", "auditor"),
        ("user.set_role", "bob"),
        ("user.set_role", "bob"),
        ("role.delete", "auditor"),
    ]
    text = json.dumps(entries)
    assert key not in text and rotated not in text and PASSWORD not in text and "another password" not in text
    table = run(env, "audit", "ls", "--actor", "local-cli", "--action", "service_account.*", "--limit", "2").stdout
    assert [line.split()[4] for line in table.splitlines()[1:]] == ["service_account.delete", "service_account.disable"]
    assert "No audit entries." in run(env, "audit", "ls", "--since", "2999-01-01").stdout
    assert "not an ISO 8601 time" in run(env, "audit", "ls", "--until", "soon", code=2).stderr


@pytest.fixture(scope="module")
def secured_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServer]:
    """`baton server start` with authentication on and a bootstrap admin key, on a fresh SQLite file; ready once the
    bootstrap key is accepted (with auth on, /health may need a key too until every route declares its permission)."""
    home = tmp_path_factory.mktemp("secured")
    url = f"sqlite+aiosqlite:///{home / 'baton.db'}"
    port = _free_port()
    api_url = f"http://127.0.0.1:{port}/api"
    command = [sys.executable, "-m", "baton", "server", "start", "--host", "127.0.0.1", "--port", str(port)]
    env = clean_environ(
        BATON_HOME=str(home),
        BATON_API_DATABASE_CONNECTION_URL=url,
        BATON_LOGGING_LEVEL="WARNING",
        BATON_AUTH_ENABLED="true",
        BATON_AUTH_BOOTSTRAP_ADMIN_KEY=BOOTSTRAP_KEY,
    )
    with (home / "server.out").open("wb") as stdout, (home / "server.err").open("wb") as stderr:
        process = subprocess.Popen(command, env=env, cwd=home, stdout=stdout, stderr=stderr, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, tail(home / "server.err")
            assert time.monotonic() < deadline, tail(home / "server.err")
            try:
                if httpx.get(f"{api_url}/me", headers=_bearer(BOOTSTRAP_KEY), timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        yield ApiServer(api_url=api_url, database_url=url)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_the_server_makes_the_bootstrap_admin_and_never_logs_its_key(secured_server: ApiServer) -> None:
    assert httpx.get(f"{secured_server.api_url}/me", timeout=10).status_code == 401
    me = httpx.get(f"{secured_server.api_url}/me", headers={"Authorization": f"Bearer {BOOTSTRAP_KEY}"}, timeout=10)
    assert me.status_code == 200 and me.json()["name"] == "bootstrap-admin" and me.json()["role"] == "admin"
    home = Path(secured_server.database_url.removeprefix("sqlite+aiosqlite:///")).parent
    logged = tail(home / "server.err", 200_000) + tail(home / "server.out", 200_000)
    assert "'bootstrap-admin' now holds the key in BATON_AUTH_BOOTSTRAP_ADMIN_KEY" in logged
    assert BOOTSTRAP_KEY not in logged


def test_login_stores_a_checked_key_that_the_sdk_and_the_worker_send(secured_server: ApiServer, tmp_path: Path) -> None:
    env = _environ(tmp_path, BATON_API_URL=secured_server.api_url)
    refused = baton(env, "login", "--key", "baton_nope", code=1).stderr
    assert "not valid" in refused and "baton login" in refused
    assert not (tmp_path / "profiles.toml").exists()
    out = baton(env, "login", stdin=BOOTSTRAP_KEY + "\n").stdout
    assert "as service account 'bootstrap-admin' (role 'admin')" in out and BOOTSTRAP_KEY not in out
    saved = tomllib.loads((tmp_path / "profiles.toml").read_text())
    assert saved["profiles"]["default"]["BATON_API_KEY"] == BOOTSTRAP_KEY

    # The SDK reads the stored key (BATON_API_KEY from the profile) and sends it as a Bearer token.
    script = "from baton.client import BatonClient\nwith BatonClient() as c: print(c.request('GET', '/me')['name'])"
    sdk = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60)
    assert sdk.returncode == 0, sdk.stderr
    assert sdk.stdout.strip() == "bootstrap-admin"

    assert "Removed the API key" in baton(env, "logout").stdout
    assert "BATON_API_KEY" not in (tmp_path / "profiles.toml").read_text()
    assert "No API key is stored" in baton(env, "logout").stdout
    sdk = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60)
    assert sdk.returncode == 1 and "baton login" in sdk.stderr


def test_the_worker_client_sends_its_key(secured_server: ApiServer) -> None:
    async def who(key: str | None) -> str:
        api = WorkerApi(secured_server.api_url, api_key=key)
        try:
            return (await api.request("GET", "/me"))["name"]
        finally:
            await api.close()

    assert asyncio.run(who(BOOTSTRAP_KEY)) == "bootstrap-admin"
    with pytest.raises(Exception, match="needs an API key"):
        asyncio.run(who(None))
