"""`baton server start` and `baton server database ...` run as subprocesses, the way a user types them."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.databases import SINGLE_DIALECT
from tests.redis_namespaces import REDIS_URL, delete_namespace, new_namespace


def _environ(home: Path, database_url: str | None = None) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("BATON_", "PREFECT_"))}
    env["BATON_HOME"] = str(home)
    if database_url is not None:
        env["BATON_API_DATABASE_CONNECTION_URL"] = database_url
    return env


def _baton(env: dict[str, str], *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "baton", *args], env=env, input=stdin, capture_output=True, text=True, timeout=60
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_start_serves_on_embedded_sqlite_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    home = tmp_path / "fresh" / ".baton"  # as on a new machine: BATON_HOME does not exist yet
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "baton", "server", "start", "--port", str(port), "--no-ui"],
        env=_environ(home),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 20
        healthy = False
        while time.monotonic() < deadline and process.poll() is None:
            try:
                healthy = httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=1).json() is True
            except httpx.HTTPError:
                time.sleep(0.05)
            if healthy:
                break
        assert healthy, process.stderr.read() if process.poll() is not None else "not healthy in 20 s"
        flow = httpx.post(f"http://127.0.0.1:{port}/api/flows/", json={"name": "kept"})
        assert flow.status_code == 201
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
        if process.stdout is not None and not process.stdout.closed:
            process.communicate()
    assert process.returncode == 0, stderr
    assert f"API: http://127.0.0.1:{port}/api" in stdout
    assert (home / "baton.db").exists()
    assert "Baton stopped" in stderr


# One database (eleven CLI processes, about 8 s a database): the migrations and reset they drive are tested on both
# databases in tests/server/database/test_migrations.py (the dry run on SQLite there, on PostgreSQL here), and the
# other tests here run these commands on SQLite.
@pytest.mark.parametrize("empty_database_url", [SINGLE_DIALECT], indirect=True)
def test_database_commands(empty_database_url: str, tmp_path: Path) -> None:
    env = _environ(tmp_path, empty_database_url)
    current = _baton(env, "server", "database", "current")
    assert "no Baton schema" in current.stdout, current.stderr
    dry_run = _baton(env, "server", "database", "upgrade", "--dry-run")
    assert dry_run.returncode == 0, dry_run.stderr
    assert "CREATE TABLE flow_run" in dry_run.stdout
    declined = _baton(env, "server", "database", "upgrade", stdin="n\n")
    assert declined.returncode == 1
    assert "Aborted" in declined.stderr
    upgraded = _baton(env, "server", "database", "upgrade", "-y")
    assert upgraded.returncode == 0, upgraded.stderr
    assert "0018" in upgraded.stdout
    assert _baton(env, "server", "database", "current").stdout.strip() == "0018 (head)"
    back_one = _baton(env, "server", "database", "downgrade", "-y")
    assert "now at revision 0017" in back_one.stdout, back_one.stderr
    to_base = _baton(env, "server", "database", "downgrade", "-y", "-r", "base")
    assert "base (no schema)" in to_base.stdout, to_base.stderr
    reset = _baton(env, "server", "database", "reset", "-y")
    assert reset.returncode == 0, reset.stderr
    assert _baton(env, "server", "database", "current").stdout.strip() == "0018 (head)"
    history = _baton(env, "server", "database", "history").stdout.splitlines()
    assert history[0].startswith("0017 -> 0018 (head)")
    assert history[-1].startswith("base -> 0001")


def test_start_refuses_a_database_at_an_unknown_revision(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'future.db'}"
    env = _environ(tmp_path, url)
    assert _baton(env, "server", "database", "upgrade", "-y").returncode == 0
    import sqlite3

    with sqlite3.connect(tmp_path / "future.db") as connection:
        connection.execute("UPDATE alembic_version SET version_num = '0999'")
    refused = _baton(env, "server", "start", "--port", str(_free_port()))
    assert refused.returncode == 1
    assert "0999" in refused.stderr
    assert "newer" in refused.stderr or "unknown" in refused.stderr.lower()


@pytest.mark.parametrize("argument", ["--port=notaport", "--log-level=LOUD"])
def test_start_rejects_bad_options(tmp_path: Path, argument: str) -> None:
    result = _baton(_environ(tmp_path), "server", "start", argument)
    assert result.returncode == 2
    assert "Invalid value" in result.stderr


def test_the_server_process_does_not_load_what_only_other_commands_need() -> None:
    """Idle memory is a target: Alembic (migrating), httpx (the CLI's API client and notification channels),
    cryptography's OpenSSL bindings (block secrets), jsonschema (resume input), redis (Redis mode), jinja2
    (automation templates), argon2 (passwords) and coolname (run names) load only when used."""
    check = (
        "import sys, baton.cli.main, baton.server.serve, baton.actors.setup, baton.server.app as app, importlib\n"
        "[importlib.import_module('baton.server.api.' + name) for name in app.API_MODULES]\n"
        "import baton.webui.routes as ui\n"
        "[importlib.import_module('baton.webui.pages.' + name) for name in ui.PAGE_MODULES]\n"
        "heavy = ('alembic', 'httpx', 'cryptography.hazmat.bindings._rust', 'jsonschema', 'prefect', 'redis',\n"
        "         'jinja2', 'argon2', 'coolname')\n"
        "print(sorted(m for m in heavy if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_services_needs_redis_and_says_so(tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("BATON_")}
    env["BATON_HOME"] = str(tmp_path)
    without = _baton(env, "server", "services")
    assert without.returncode == 1
    assert "BATON_REDIS_URL" in without.stderr
    port = _free_port()  # nothing listens there
    unreachable = _baton({**env, "BATON_REDIS_URL": f"redis://127.0.0.1:{port}/0"}, "server", "services")
    assert unreachable.returncode == 1
    assert f"Cannot reach Redis at 127.0.0.1:{port}" in unreachable.stderr
    assert "Traceback" not in unreachable.stderr
    with socket.create_server(("127.0.0.1", 0)) as taken:
        busy = taken.getsockname()[1]
        clash = _baton({**env, "BATON_REDIS_URL": REDIS_URL}, "server", "services", "--metrics-port", str(busy))
    assert clash.returncode == 1
    assert f"Cannot serve the services' metrics on 127.0.0.1:{busy}" in clash.stderr
    assert "Traceback" not in clash.stderr


def test_services_wait_for_the_schema_and_say_what_to_run_when_it_does_not_come(tmp_path: Path) -> None:
    namespace = new_namespace()
    env = {
        **_environ(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'baton.db'}"),
        "BATON_REDIS_URL": REDIS_URL,
        "BATON_REDIS_NAMESPACE": namespace,
    }
    try:
        refused = _baton({**env, "BATON_SERVICES_SCHEMA_WAIT_SECONDS": "0.5"}, "server", "services")
        assert refused.returncode == 1
        assert "Waiting up to 0.5 s for the database schema" in refused.stderr
        assert "at revision none (empty database), not the newest" in refused.stderr
        assert "baton server database upgrade -y" in refused.stderr
        assert "Traceback" not in refused.stderr

        services = subprocess.Popen(
            [sys.executable, "-m", "baton", "server", "services", "--processes", "1", "--threads", "1"],
            env={**env, "BATON_SERVICES_SCHEMA_WAIT_SECONDS": "30"},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert services.stderr is not None and services.stdout is not None
            assert "Waiting up to 30 s" in services.stderr.readline()
            assert _baton(env, "server", "database", "upgrade", "-y").returncode == 0
            # Once the schema is there, the services start.
            assert services.stdout.readline().startswith("Baton services: 1 processes x 1 threads")
            assert any("ready for action" in line for line in services.stderr), "the services never came up"
        finally:
            services.send_signal(signal.SIGTERM)
            services.communicate(timeout=30)  # also closes the pipes
        assert services.returncode == 0
    finally:
        delete_namespace(namespace)


def test_dramatiq_can_load_the_actors_module(tmp_path: Path) -> None:
    # What Dramatiq's command line does in each worker process with `dramatiq module:callable`: call it, then take
    # the global broker.
    script = (
        "import importlib, dramatiq, baton.cli.server as cli\n"
        "module, name = cli.DRAMATIQ_ENTRY_POINT.split(':')\n"
        "getattr(importlib.import_module(module), name)()\n"
        "print(sorted(dramatiq.get_broker().get_declared_actors()))"
    )
    env = {key: value for key, value in os.environ.items() if not key.startswith("BATON_")}
    loaded = subprocess.run(
        [sys.executable, "-c", script], env={**env, "BATON_HOME": str(tmp_path)}, capture_output=True, text=True
    )
    assert loaded.returncode == 0, loaded.stderr
    assert "record_events" in loaded.stdout and "mark_late_runs" in loaded.stdout


def _wait_healthy(process: subprocess.Popen[str], port: int) -> bool:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=1).json() is True:
                return True
        except httpx.HTTPError:
            time.sleep(0.05)
    return False


@pytest.mark.parametrize("where", ["--host", "BATON_SERVER_API_HOST"])
def test_start_refuses_a_network_address_without_authentication(tmp_path: Path, where: str) -> None:
    env = _environ(tmp_path)
    port = _free_port()
    args = ["server", "start", "--port", str(port), "--no-ui"]
    if where == "--host":
        args += ["--host", "0.0.0.0"]
    else:
        env["BATON_SERVER_API_HOST"] = "0.0.0.0"
    refused = _baton(env, *args)
    assert refused.returncode == 1, refused.stdout
    message = " ".join(refused.stderr.split())
    assert "Refusing to listen on 0.0.0.0 with authentication off" in message
    for hint in ("BATON_AUTH_ENABLED=true", "baton user create NAME --role admin", "BATON_AUTH_BOOTSTRAP_ADMIN_KEY"):
        assert hint in message
    assert "BATON_AUTH_ALLOW_ANONYMOUS=true" in message
    assert not (tmp_path / "baton.db").exists(), "the server touched its database before refusing"


def test_allow_anonymous_serves_the_network_with_a_warning_in_the_banner(tmp_path: Path) -> None:
    env = {**_environ(tmp_path), "BATON_AUTH_ALLOW_ANONYMOUS": "true"}
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "baton", "server", "start", "--host", "0.0.0.0", "--port", str(port), "--no-ui"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert _wait_healthy(process, port), process.stderr.read() if process.poll() is not None else "not healthy"
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, stderr
    banner = stdout.splitlines()
    assert banner[0].startswith("WARNING: authentication is off and the server listens on 0.0.0.0"), stdout
    assert "anyone who reaches this port" in banner[0]
    assert f"API: http://0.0.0.0:{port}/api" in stdout
    assert "WARNING: authentication is off" in stderr  # in the log too
