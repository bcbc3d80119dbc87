"""`prefect deployment run NAME --watch` and `prefect flow-run watch ID`, the official CLI run as a user runs it,
follow a served deployment's run to its end: they print the run's log lines as they are written (the `/logs/out`
websocket) and its state changes (`/events/out`), then exit 0 for Completed and 1 for Failed, as against Prefect."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.acceptance.conftest import (
    FLOWS_DIR,
    SERVER_KIND,
    ApiServer,
    _prefect_server,
    baton_server_on_fresh_database,
    clean_environ,
    tail,
)
from tests.acceptance.prefect_cli import run_cli
from tests.databases import SINGLE_DIALECT, TemplateDatabases

pytestmark = pytest.mark.slow

# The serving process and the commands' process each import prefect (~2 s) and each run starts a flow process.
TIMEOUT_SECONDS = 120


@pytest.fixture(scope="module")
def watch_server(
    template_databases: TemplateDatabases, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ApiServer]:
    """One server, on one database: the stream's SQL runs on both in tests/server/api/test_logs_out.py."""
    if SERVER_KIND == "baton":
        yield from baton_server_on_fresh_database(SINGLE_DIALECT, template_databases, tmp_path_factory)
    else:
        yield from _prefect_server(tmp_path_factory.mktemp("prefect-home"))


@pytest.fixture(scope="module")
def served(watch_server: ApiServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """`flow_file.serve(...)` of the two watched deployments, running until the module's tests are done; its log."""
    home = tmp_path_factory.mktemp("served")
    env = clean_environ(
        PREFECT_API_URL=watch_server.api_url,
        PREFECT_HOME=str(home / "prefect-home"),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_RUNNER_POLL_FREQUENCY="1",
    )
    log = home / "serve.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, str(FLOWS_DIR / "served_watched.py")], env=env, cwd=FLOWS_DIR, stdout=output, stderr=output
        )
    try:
        with httpx.Client(base_url=watch_server.api_url, timeout=10.0) as api:
            deadline = time.monotonic() + TIMEOUT_SECONDS
            names = ("chatty/watched", "doomed/watched")
            while time.monotonic() < deadline and process.poll() is None:
                if all(api.get(f"/deployments/name/{name}").status_code == 200 for name in names):
                    break
                time.sleep(0.3)
            else:
                pytest.fail(f"the served deployments did not appear.\n{tail(log)}")
        yield log
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_watch_follows_runs_to_their_final_state(watch_server: ApiServer, served: Path, tmp_path: Path) -> None:
    completed, failed = run_cli(
        watch_server,
        tmp_path,
        [
            ["deployment", "run", "chatty/watched", "--watch", "--watch-timeout", "90"],
            {"watch_new_run": "doomed/watched"},
        ],
    )
    completed_output, completed_code = completed.output, completed.exit_code
    failed_output, failed_code = failed.output, failed.exit_code
    # The run's own log lines, streamed while it ran, then its final state and the exit code.
    assert "hello from baton" in completed_output, completed_output + tail(served)
    assert "careful: this is a warning from baton" in completed_output, completed_output
    assert "prefect.flow-run.Running" in completed_output and "prefect.flow-run.Completed" in completed_output
    assert "Flow run finished successfully in 'Completed'." in completed_output, completed_output
    assert completed_code == 0

    # The engine's log line about the failure, then the state; `flow-run watch` exits 1 as Prefect's CLI does.
    assert "Finished in state Failed" in failed_output, failed_output + tail(served)
    assert "the answer is not 41" in failed_output
    assert "Flow run finished in state 'Failed'." in failed_output, failed_output
    assert failed_code == 1
