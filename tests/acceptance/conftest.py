"""Acceptance fixtures: an API server in a subprocess, and real Prefect flows run against it in subprocesses.

`BATON_ACCEPTANCE_SERVER` picks the server under test: `baton` (default; one server per test module and database,
so each test runs on SQLite and on PostgreSQL) or `prefect` (the real Prefect server, one per module because it
takes about 12 s to start). The same assertions run against both, which is how we know they describe
Prefect-compatible behaviour; the tests of a module share its server, so each reads back only what it made.

Flows run in subprocesses so that Prefect's global state (settings, clients, event workers) stays out of pytest.
"""

from __future__ import annotations

import functools
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.acceptance.service_keys import ServiceKey, mint_service_keys
from tests.databases import ENABLED_DIALECTS, SINGLE_DIALECT, TemplateDatabases

SERVER_KIND = os.environ.get("BATON_ACCEPTANCE_SERVER", "baton")
if SERVER_KIND not in ("baton", "prefect"):
    raise pytest.UsageError(f"BATON_ACCEPTANCE_SERVER must be 'baton' or 'prefect', not {SERVER_KIND!r}")

FLOWS_DIR = Path(__file__).parent / "flows"
BIN_DIR = Path(sys.executable).parent
# The real Prefect server needs about 12 s to start on a 2-CPU machine; leave room for a loaded CI runner.
STARTUP_TIMEOUT_SECONDS = 30.0
# After SIGTERM a server gets this long to exit before it is killed and the test fails.
SHUTDOWN_TIMEOUT_SECONDS = 10.0
# A flow script imports prefect (about 2 s) and runs a tiny flow; anything near this limit is a hang.
FLOW_TIMEOUT_SECONDS = 90.0
# Inherited variables with these prefixes would configure the subprocesses behind the test's back.
ISOLATED_PREFIXES = ("PREFECT_", "BATON_")


@dataclass(frozen=True)
class ApiServer:
    """A running server: where its API is and which database it writes to."""

    api_url: str
    database_url: str


@dataclass(frozen=True)
class AuthServer:
    """A running server with authentication on, and a key for each role a test uses."""

    server: ApiServer
    keys: dict[str, ServiceKey]


def clean_environ(**settings: str) -> dict[str, str]:
    """The current environment without PREFECT_/BATON_ variables, plus `settings`."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(ISOLATED_PREFIXES)}
    env.update(settings)
    return env


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def tail(path: Path, limit: int = 8000) -> str:
    text = path.read_text(errors="replace") if path.exists() else ""
    return text[-limit:]


def _wait_until_healthy(process: subprocess.Popen[bytes], api_url: str, stderr_path: Path) -> None:
    """Return once `GET /health` answers `true`; fail with the server's stderr if it exits or times out."""
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(
                f"{SERVER_KIND} server exited with code {process.returncode} before becoming healthy.\n"
                f"stderr:\n{tail(stderr_path)}"
            )
        try:
            response = httpx.get(f"{api_url}/health", timeout=1.0)
            if response.status_code == 200 and response.json() is True:
                return
        except (httpx.TransportError, ValueError):
            pass
        time.sleep(0.1)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    pytest.fail(
        f"{SERVER_KIND} server did not answer {api_url}/health within {STARTUP_TIMEOUT_SECONDS} s.\n"
        f"stderr:\n{tail(stderr_path)}"
    )


def _stop(process: subprocess.Popen[bytes], stderr_path: Path) -> None:
    """SIGTERM the server and require it to exit on its own; kill its process group if it does not."""
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=SHUTDOWN_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        pytest.fail(
            f"{SERVER_KIND} server did not exit within {SHUTDOWN_TIMEOUT_SECONDS} s of SIGTERM.\n"
            f"stderr:\n{tail(stderr_path)}"
        )


def _serve(command: list[str], env: dict[str, str], home: Path, api_url: str, database_url: str) -> Iterator[ApiServer]:
    stdout_path, stderr_path = home / "server.out", home / "server.err"
    with stdout_path.open("wb") as stdout, stderr_path.open("wb") as stderr:
        # A session of its own, so a server that ignores SIGTERM can be killed with its children.
        process = subprocess.Popen(command, env=env, cwd=home, stdout=stdout, stderr=stderr, start_new_session=True)
    try:
        _wait_until_healthy(process, api_url, stderr_path)
        yield ApiServer(api_url=api_url, database_url=database_url)
    finally:
        if process.poll() is None:
            _stop(process, stderr_path)
    assert process.poll() is not None


def baton_server(home: Path, database_url: str, **settings: str) -> Iterator[ApiServer]:
    """A `baton server start` subprocess on `database_url`, with extra BATON_ `settings`, until the generator ends."""
    port = _free_port()
    command = [sys.executable, "-m", "baton", "server", "start", "--host", "127.0.0.1", "--port", str(port)]
    env = clean_environ(
        BATON_HOME=str(home),
        BATON_API_DATABASE_CONNECTION_URL=database_url,
        BATON_LOGGING_LEVEL="WARNING",
        **settings,
    )
    base_path = settings.get("BATON_SERVER_BASE_PATH", "")
    yield from _serve(command, env, home, f"http://127.0.0.1:{port}{base_path}/api", database_url)


def baton_server_on_fresh_database(
    dialect: str,
    template_databases: TemplateDatabases,
    tmp_path_factory: pytest.TempPathFactory,
    prepare: Callable[[str], None] | None = None,
    **settings: str,
) -> Iterator[ApiServer]:
    """`baton_server` on a fresh migrated `dialect` database, which is dropped after the server stops; `prepare`
    gets the database's URL before the server starts (to write accounts and keys as `baton` commands would)."""
    url = template_databases.clone(dialect, tmp_path_factory.mktemp("baton-db"))
    try:
        if prepare is not None:
            prepare(url)
        yield from baton_server(tmp_path_factory.mktemp("baton-home"), url, **settings)
    finally:
        template_databases.drop(url)


def _prefect_server(home: Path) -> Iterator[ApiServer]:
    port = _free_port()
    database_url = f"sqlite+aiosqlite:///{home / 'prefect.db'}"
    command = [str(BIN_DIR / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)]
    env = clean_environ(
        PREFECT_HOME=str(home),
        PREFECT_API_DATABASE_CONNECTION_URL=database_url,
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_SERVER_UI_ENABLED="false",
        # Prefect's server streams log lines to /api/logs/out only with these on (both off by default); Baton always
        # does, and `prefect ... --watch` prints the lines it gets.
        PREFECT_SERVER_LOGS_STREAM_OUT_ENABLED="true",
        PREFECT_SERVER_LOGS_STREAM_PUBLISHING_ENABLED="true",
    )
    yield from _serve(command, env, home, f"http://127.0.0.1:{port}/api", database_url)


# A parametrised fixture cannot be fetched with request.getfixturevalue (pytest needs the parameters at collection
# time), so baton mode is parametrised over the databases itself and prefect mode is a separate definition.
if SERVER_KIND == "baton":

    @pytest.fixture(scope="module", params=ENABLED_DIALECTS)
    def api_server(
        request: pytest.FixtureRequest,
        template_databases: TemplateDatabases,
        tmp_path_factory: pytest.TempPathFactory,
    ) -> Iterator[ApiServer]:
        """A Baton server on a fresh database (SQLite or PostgreSQL) for the module's tests on that database, stopped
        with SIGTERM after them. A server start costs about 2 s, a test of a flow 2 to 5 s."""
        yield from baton_server_on_fresh_database(request.param, template_databases, tmp_path_factory)

else:

    @pytest.fixture(scope="module")
    def api_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServer]:
        """The real Prefect server with its own home and SQLite database, shared by the module's tests."""
        yield from _prefect_server(tmp_path_factory.mktemp("prefect-home"))


@pytest.fixture(scope="module")
def cli_server(template_databases: TemplateDatabases, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServer]:
    """One server for the module, on one database: for tests of the `prefect` CLI, whose commands' SQL the client
    tests cover on both databases."""
    if SERVER_KIND == "baton":
        yield from baton_server_on_fresh_database(SINGLE_DIALECT, template_databases, tmp_path_factory)
    else:
        yield from _prefect_server(tmp_path_factory.mktemp("prefect-home"))


#: Roles with a key on `auth_server`: those whose access the client tests exercise, plus admin to set things up.
AUTH_ROLES = ("admin", "developer", "operator", "viewer", "worker")


def baton_server_with_auth(
    dialect: str,
    template_databases: TemplateDatabases,
    tmp_path_factory: pytest.TempPathFactory,
    roles: tuple[str, ...] = AUTH_ROLES,
    **settings: str,
) -> Iterator[AuthServer]:
    """`baton_server_on_fresh_database` with BATON_AUTH_ENABLED=true and a service account per role, made in the
    database before the server starts."""
    keys: dict[str, ServiceKey] = {}

    def prepare(url: str) -> None:
        keys.update(mint_service_keys(url, roles))

    for server in baton_server_on_fresh_database(
        dialect, template_databases, tmp_path_factory, prepare, BATON_AUTH_ENABLED="true", **settings
    ):
        yield AuthServer(server=server, keys=keys)


@pytest.fixture(scope="module")
def auth_server(
    template_databases: TemplateDatabases, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[AuthServer]:
    """A Baton server with authentication on, for the module, on one database (PostgreSQL when enabled): the SQL
    behind the key look-ups runs on both in tests/server."""
    yield from baton_server_with_auth(SINGLE_DIALECT, template_databases, tmp_path_factory)


@pytest.fixture
def api(api_server: ApiServer) -> Iterator[httpx.Client]:
    """An HTTP client for the server's API; paths are relative to `/api`."""
    with httpx.Client(base_url=api_server.api_url, timeout=10.0) as client:
        yield client


def created(api: httpx.Client, path: str, body: Any) -> dict[str, Any]:
    """POST `body` to `path` and return the object the server made (failing the test on any other answer)."""
    response = api.post(path, json=body)
    assert response.status_code in (200, 201), response.text
    return dict(response.json())


def local_file_system_block(api: httpx.Client, name: str, basepath: Path) -> dict[str, Any]:
    """A `local-file-system` block document named `name` writing under `basepath` (a result storage)."""
    block_type = api.get("/block_types/slug/local-file-system").json()
    (schema,) = api.post(
        "/block_schemas/filter", json={"block_schemas": {"block_type_id": {"any_": [block_type["id"]]}}}
    ).json()
    body = {
        "name": name,
        "data": {"basepath": str(basepath)},
        "block_type_id": block_type["id"],
        "block_schema_id": schema["id"],
    }
    return created(api, "/block_documents/", body)


FlowRunner = Callable[..., dict[str, Any]]


def flow_script(
    api_server: ApiServer, workdir: Path, script: str, *args: str, **settings: str
) -> subprocess.CompletedProcess[str]:
    """Run `tests/acceptance/flows/<script>.py [args]` against the server, with extra PREFECT_ `settings`."""
    client_home = workdir / f"prefect-client-{script}"
    client_home.mkdir(exist_ok=True)
    env = clean_environ(
        PREFECT_API_URL=api_server.api_url,
        PREFECT_HOME=str(client_home),
        PREFECT_LOGGING_LEVEL="INFO",
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        **settings,
    )
    command = [sys.executable, str(FLOWS_DIR / f"{script}.py"), *args]
    try:
        return subprocess.run(
            command, env=env, cwd=workdir, capture_output=True, text=True, timeout=FLOW_TIMEOUT_SECONDS
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"flow script {script} did not finish within {FLOW_TIMEOUT_SECONDS} s.\n{_output(exc)}")


def _run_flow_script(api_server: ApiServer, workdir: Path, script: str, *args: str) -> dict[str, Any]:
    """Run `tests/acceptance/flows/<script>.py [args]` against the server; return the JSON on its last stdout line."""
    completed = flow_script(api_server, workdir, script, *args)
    lines = completed.stdout.strip().splitlines()
    if completed.returncode != 0 or not lines:
        pytest.fail(f"flow script {script} exited with code {completed.returncode}.\n{_output(completed)}")
    try:
        outcome = json.loads(lines[-1])
    except ValueError:
        pytest.fail(f"flow script {script} did not end its stdout with a JSON line.\n{_output(completed)}")
    assert isinstance(outcome, dict) and "flow_run_id" in outcome, outcome
    return outcome


@pytest.fixture
def run_flow(api_server: ApiServer, tmp_path: Path) -> FlowRunner:
    """Run `tests/acceptance/flows/<script>.py [args]` against the server; return the JSON on its last stdout line."""
    return functools.partial(_run_flow_script, api_server, tmp_path)


@pytest.fixture(scope="module")
def run_flow_once(api_server: ApiServer, tmp_path_factory: pytest.TempPathFactory) -> FlowRunner:
    """Like `run_flow`, but each script (with its arguments) runs once for the module's tests on a server: for tests
    that only read back what the run made (a flow process costs ~2 s of CPU, most of it importing prefect)."""
    outcomes: dict[tuple[str, ...], dict[str, Any]] = {}

    def run(script: str, *args: str) -> dict[str, Any]:
        if (script, *args) not in outcomes:
            outcomes[(script, *args)] = _run_flow_script(api_server, tmp_path_factory.mktemp("flow"), script, *args)
        return outcomes[(script, *args)]

    return run


def _output(result: subprocess.CompletedProcess[str] | subprocess.TimeoutExpired) -> str:
    def text(value: str | bytes | None) -> str:
        return value.decode(errors="replace") if isinstance(value, bytes) else value or ""

    return f"stdout:\n{text(result.stdout)}\nstderr:\n{text(result.stderr)}"
