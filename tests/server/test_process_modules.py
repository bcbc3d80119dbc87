"""What a running server process has loaded: the embedded server (no `BATON_REDIS_URL`) never imports redis, an
API-only one (Redis mode) never imports the actors, and modules a process may not need load only when used. Idle
memory is a target (benchmarks/README.md, server_startup.py).

The server runs in a subprocess started as `baton server start` is, with a thread that answers each line on its stdin
with the watched modules it has loaded; the test drives a small workload over HTTP in between."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.redis_namespaces import REDIS_URL, delete_namespace, new_namespace

# Top-level packages (and modules) the embedded server must not load, whatever the workload below does.
NEVER_EMBEDDED = ("redis", "opentelemetry", "dramatiq.brokers.redis", "baton.queue.redis_broker", "prefect")
# Loaded on first use only: the workload does not use them, so they must still be absent at the end.
ON_FIRST_USE = ("jinja2", "aiohttp", "httpx", "jsonschema", "argon2")
# The actors run in `baton server services`: an API-only process only sends them messages.
NEVER_API_ONLY = ("baton.actors",)
# Imported on the first request that needs them: the API's handler modules, the UI's pages, the log stream (the other
# streams, the lease batcher and the metrics are imported the same way, baton.server.context).
ON_FIRST_REQUEST = ("baton.server.api", "baton.webui.pages", "baton.server.logs_stream")
WATCHED = NEVER_EMBEDDED + ON_FIRST_USE + NEVER_API_ONLY + ON_FIRST_REQUEST

SERVER = """
import json, sys, threading

watched = tuple(sys.argv[1].split(","))


def report():
    for _ in sys.stdin:
        loaded = sorted({name for name in sys.modules for prefix in watched if name == prefix
                         or name.startswith(prefix + ".")})
        print("LOADED", json.dumps(loaded), flush=True)


threading.Thread(target=report, daemon=True).start()
from baton.cli.main import cli

cli(["server", "start", "--port", sys.argv[2]])
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServerProcess:
    def __init__(self, process: subprocess.Popen[str], port: int) -> None:
        self.process = process
        self.api = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10)

    def loaded(self) -> list[str]:
        """The watched modules the server has imported so far."""
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write("report\n")
        self.process.stdin.flush()
        for line in self.process.stdout:  # the server's banner comes first
            if line.startswith("LOADED "):
                return list(json.loads(line.removeprefix("LOADED ")))
        raise AssertionError(f"the server exited: {self.process.stderr.read() if self.process.stderr else ''}")


def _start(env: dict[str, str]) -> Iterator[ServerProcess]:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-c", SERVER, ",".join(WATCHED), str(port)],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    server = ServerProcess(process, port)
    try:
        deadline = time.monotonic() + 60
        while process.poll() is None and time.monotonic() < deadline:
            try:
                if server.api.get("/api/health", timeout=1).json() is True:
                    break
            except httpx.HTTPError:
                time.sleep(0.05)
        else:
            raise AssertionError(process.stderr.read() if process.poll() is not None else "not healthy in 60 s")
        yield server
    finally:
        server.api.close()
        process.terminate()
        process.communicate(timeout=30)


def _environ(home: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("BATON_", "PREFECT_"))}
    env["BATON_HOME"] = str(home)
    return env


@pytest.fixture
def embedded_server(tmp_path: Path) -> Iterator[ServerProcess]:
    yield from _start(_environ(tmp_path))


@pytest.fixture
def api_only_server(tmp_path: Path) -> Iterator[ServerProcess]:
    namespace = new_namespace()
    try:
        yield from _start({**_environ(tmp_path), "BATON_REDIS_URL": REDIS_URL, "BATON_REDIS_NAMESPACE": namespace})
    finally:
        delete_namespace(namespace)


def _run_a_flow(api: httpx.Client) -> str:
    flow = api.post("/api/flows/", json={"name": "modules"}).json()
    run = api.post("/api/flow_runs/", json={"flow_id": flow["id"], "state": {"type": "PENDING"}}).json()
    for state in ("RUNNING", "COMPLETED"):
        answer = api.post(f"/api/flow_runs/{run['id']}/set_state", json={"state": {"type": state}})
        assert answer.json()["status"] == "ACCEPT", answer.text
    return str(run["id"])


def _wait_for_event(api: httpx.Client, run_id: str) -> None:
    """Until the actors have recorded the run's Completed event (so they have run)."""
    spec = {
        "filter": {
            "event": {"name": ["prefect.flow-run.Completed"]},
            "any_resource": {"id": [f"prefect.flow-run.{run_id}"]},
        }
    }
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if api.post("/api/events/filter", json=spec).json()["events"]:
            return
        time.sleep(0.05)
    raise AssertionError("the actors did not record the run's Completed event in 20 s")


def _among(loaded: list[str], prefixes: tuple[str, ...]) -> list[str]:
    return [name for name in loaded if name in prefixes or name.startswith(tuple(f"{prefix}." for prefix in prefixes))]


def test_the_embedded_server_never_loads_redis(embedded_server: ServerProcess) -> None:
    assert _among(embedded_server.loaded(), NEVER_EMBEDDED + ON_FIRST_USE) == []
    run_id = _run_a_flow(embedded_server.api)
    _wait_for_event(embedded_server.api, run_id)
    assert embedded_server.api.get("/api/ready").status_code == 200
    assert "baton_flow_runs" in embedded_server.api.get("/metrics").text
    assert embedded_server.api.get("/").status_code == 200
    loaded = embedded_server.loaded()
    assert "baton.actors" in loaded  # the check sees what this process loaded
    assert _among(loaded, NEVER_EMBEDDED + ON_FIRST_USE) == []


def test_an_api_only_server_never_loads_the_actors(api_only_server: ServerProcess) -> None:
    _run_a_flow(api_only_server.api)
    assert api_only_server.api.get("/api/ready").status_code == 200
    loaded = api_only_server.loaded()
    assert "redis" in loaded  # the check sees what this process loaded
    assert _among(loaded, NEVER_API_ONLY + ON_FIRST_USE) == []


def _handler_modules(loaded: list[str]) -> list[str]:
    """The route modules among `loaded` (baton.server.app.API_MODULES, baton.webui.routes.PAGE_MODULES)."""
    from baton.server.app import API_MODULES
    from baton.webui.routes import PAGE_MODULES

    names = {f"baton.server.api.{name}" for name in API_MODULES} | {
        f"baton.webui.pages.{name}" for name in PAGE_MODULES
    }
    return sorted(name for name in loaded if name in names)


def test_a_server_imports_a_handler_module_on_the_first_request_under_it(api_only_server: ServerProcess) -> None:
    api = api_only_server.api
    assert _handler_modules(api_only_server.loaded()) == ["baton.server.api.root"]  # /api/health, polled at start
    assert "baton.server.logs_stream" not in api_only_server.loaded()
    assert api.post("/api/variables/filter", json={}).status_code == 200
    assert api.post("/api/logs/", json=[]).status_code == 201
    assert api.get("/variables").status_code == 200
    assert api.get("/api/no-such-route").status_code == 404
    loaded = api_only_server.loaded()
    # `/api/logs/` is answered by `logs`, before `logs_out` (/api/logs/out) is reached.
    assert _handler_modules(loaded) == [
        "baton.server.api.logs",
        "baton.server.api.root",
        "baton.server.api.variables",
        "baton.webui.pages.variables",
    ]
    assert "baton.server.logs_stream" not in loaded  # only the logs websocket (`/api/logs/out`) follows the stream
