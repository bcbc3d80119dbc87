"""UI test fixtures: a Baton server in a subprocess, seeded by real Prefect flows, and Chromium driven by Playwright.

Each UI module runs on one database, PostgreSQL and SQLite in turn (`module_database`), so that both serve pages
without every module starting two servers; a test marked `both_databases` runs on the other one too (one per point
of the UI's acceptance, issue 28).

Chromium is Debian's (/usr/bin/chromium, installed by .ci/run); Playwright never downloads a browser. Every `page`
fails its test on a JavaScript error or a failed console message; a failed test leaves a screenshot in
test-artifacts/screenshots/ (BATON_TEST_ARTIFACTS overrides the folder; BATON_TEST_SCREENSHOTS=all keeps every
test's).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from tests.acceptance.conftest import FLOW_TIMEOUT_SECONDS, ApiServer, baton_server, clean_environ
from tests.databases import ENABLED_DIALECTS, TemplateDatabases, drop_shared
from tests.run_shared import once_per_run, run_directory, run_lock

CHROMIUM = os.environ.get("BATON_TEST_CHROMIUM", "/usr/bin/chromium")
FLOWS_DIR = Path(__file__).parent / "flows"
ACCEPTANCE_FLOWS_DIR = Path(__file__).parent.parent / "acceptance" / "flows"
ARTIFACTS_DIR = Path(os.environ.get("BATON_TEST_ARTIFACTS", Path(__file__).parents[2] / "test-artifacts"))
SCREENSHOT_EVERY_TEST = os.environ.get("BATON_TEST_SCREENSHOTS") == "all"
# Without these flags Chromium keeps trying to reach Google's hosts, which this machine's network refuses.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # Chromium 156 preloads its omnibox popup (a WebUI page in a renderer of its own) for every window, and each
    # browser context is a window: most of Chromium's CPU in a UI test module (benchmarks/README.md, test suite).
    # Headless, no one ever sees it. Chromium ignores feature names it does not know, so another version runs the same.
    "--disable-features=WebUIOmniboxPopup,WebUIOmniboxAimPopup,WebUIOmniboxFullPopup",
]


@dataclass(frozen=True)
class UiServer:
    """A running Baton server: its UI at `url`, its API at `api_url`; `seeded` when it holds the seeded runs."""

    url: str
    api_url: str
    database_url: str
    seeded: bool = False


@dataclass(frozen=True)
class SeededDatabase:
    """A database that flows/seed_runs.py has filled (no server is connected to it), and its runs: label -> id."""

    url: str
    runs: dict[str, str]


# The UI modules in the order they take turns on the databases.
UI_MODULES = sorted(path.stem for path in Path(__file__).parent.glob("test_*.py"))


def module_database(module_name: str) -> str:
    """The database a UI module's server runs on: PostgreSQL and SQLite by turns over the modules in name order, so
    that each serves about half of them (the one enabled when BATON_TEST_DATABASES names one)."""
    if len(ENABLED_DIALECTS) == 1:
        return ENABLED_DIALECTS[0]
    stem = module_name.rsplit(".", 1)[-1]
    turn = UI_MODULES.index(stem) if stem in UI_MODULES else 0
    return ("postgresql", "sqlite")[turn % 2]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "both_databases: a UI test that runs on the other database too, not only its module's"
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrise `ui_database` (module-scoped, so a module starts one server per database it uses): the module's
    database, and the other one as well for a test marked `both_databases`."""
    if "ui_database" not in metafunc.fixturenames:
        return
    home = module_database(metafunc.module.__name__)
    databases = [home]
    if metafunc.definition.get_closest_marker("both_databases"):
        databases += [dialect for dialect in ENABLED_DIALECTS if dialect != home]
    metafunc.parametrize("ui_database", databases, indirect=True, scope="module")


@pytest.fixture(scope="module")
def ui_database(request: pytest.FixtureRequest) -> str:
    """The dialect the module's server runs on ("postgresql" or "sqlite"); see `pytest_generate_tests`."""
    return str(request.param)


def seeded_database(request: pytest.FixtureRequest, dialect: str) -> SeededDatabase:
    """A database of `dialect` seeded once per test run (the Prefect flows take several seconds): by the first test
    process that needs it, the other reads what it recorded (tests/run_shared.py). Each module that uses
    `seeded_runs` works on a copy; the runs are all finished, so a copy made minutes later shows the same pages."""
    template_databases: TemplateDatabases = request.getfixturevalue("template_databases")
    tmp_path_factory: pytest.TempPathFactory = request.getfixturevalue("tmp_path_factory")

    def seed() -> dict[str, Any]:
        url = template_databases.clone_shared(dialect, run_directory(request.config))
        try:
            for server in baton_server(tmp_path_factory.mktemp("seed-home"), url):
                outcome = run_flow_script(
                    _ui_server(server), tmp_path_factory.mktemp("seed"), FLOWS_DIR / "seed_runs.py"
                )
        except BaseException:
            drop_shared(url)
            raise
        return {"database_url": url, "runs": outcome["runs"]}

    record = once_per_run(request.config, f"seeded-database-{dialect}", seed)
    return SeededDatabase(record["database_url"], record["runs"])


def _module_uses(request: pytest.FixtureRequest, fixture_name: str) -> bool:
    return any(
        fixture_name in getattr(item, "fixturenames", ())
        for item in request.session.items
        if getattr(item, "module", None) is request.module
    )


@pytest.fixture(scope="module")
def ui_server(
    request: pytest.FixtureRequest,
    ui_database: str,
    template_databases: TemplateDatabases,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[UiServer]:
    """One server per test module and database, on a fresh database: a copy of the seeded database when a test of the
    module uses `seeded_runs`."""
    seeded = _module_uses(request, "seeded_runs")
    directory = tmp_path_factory.mktemp("ui-db")
    if seeded:
        seeded_url = seeded_database(request, ui_database).url
        # One process copies at a time: PostgreSQL refuses to copy a database that another copy is reading.
        with run_lock(request.config, f"seeded-database-{ui_database}"):
            url = template_databases.copy(seeded_url, directory)
    else:
        url = template_databases.clone(ui_database, directory)
    try:
        for server in baton_server(tmp_path_factory.mktemp("ui-home"), url):
            yield _ui_server(server, seeded=seeded)
    finally:
        template_databases.drop(url)


def _ui_server(server: ApiServer, *, seeded: bool = False) -> UiServer:
    return UiServer(
        url=server.api_url.removesuffix("/api"),
        api_url=server.api_url,
        database_url=server.database_url,
        seeded=seeded,
    )


@pytest.fixture(scope="module")
def api(ui_server: UiServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=ui_server.api_url, timeout=10.0) as client:
        yield client


FlowScript = Callable[..., dict[str, Any]]


def run_flow_script(server: UiServer, workdir: Path, script: Path, *args: str) -> dict[str, Any]:
    """Run a Prefect flow script against `server`; return the JSON its last stdout line prints."""
    env = clean_environ(
        PREFECT_API_URL=server.api_url,
        PREFECT_HOME=str(workdir / "prefect-home"),
        PREFECT_LOGGING_LEVEL="INFO",
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
    )
    completed = subprocess.run(
        [sys.executable, str(script), *args],
        env=env,
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=FLOW_TIMEOUT_SECONDS,
    )
    lines = completed.stdout.strip().splitlines()
    if completed.returncode != 0 or not lines:
        pytest.fail(f"{script.name} exited with {completed.returncode}:\n{completed.stdout}\n{completed.stderr}")
    return json.loads(lines[-1])


def start_flow_script(server: UiServer, workdir: Path, script: Path, *args: str) -> subprocess.Popen[str]:
    """Start a Prefect flow script against `server` without waiting for it (for live-run tests)."""
    env = clean_environ(
        PREFECT_API_URL=server.api_url,
        PREFECT_HOME=str(workdir / "prefect-home"),
        PREFECT_LOGGING_LEVEL="INFO",
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
    )
    return subprocess.Popen(
        [sys.executable, str(script), *args],
        env=env,
        cwd=workdir,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture(scope="module")
def seeded_runs(request: pytest.FixtureRequest, ui_server: UiServer, ui_database: str) -> dict[str, str]:
    """Runs made by the Prefect client (see flows/seed_runs.py), in the module's server: label -> flow run id."""
    assert ui_server.seeded, "the module's server was started without the seeded runs"
    return seeded_database(request, ui_database).runs


@pytest.fixture(scope="module")
def browser(ui_server: UiServer) -> Iterator[Any]:
    """Chromium for one test module, started after its server and closed before the next module's.

    Playwright's sync API keeps an asyncio loop running in this thread while it is open, so nothing may call
    asyncio.run (database fixtures do) until it closes: set up data through the API, not the `database` fixture.
    """
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is not installed at {CHROMIUM}; .ci/run installs Debian's chromium package.")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@dataclass
class BrowserErrors:
    messages: list[str]

    def expect(self, fragment: str) -> None:
        """Forget the errors containing `fragment`: a test that provokes an error (a 404 page) says so."""
        self.messages = [message for message in self.messages if fragment not in message]


# How long `page.wait_for_function` waits when the call does not say, in ms (the context's default timeout).
DEFAULT_TIMEOUT_MS = 10_000
WAIT_POLL_MS = 50


def wait_for_expression(page: Any, expression: str, *, timeout: float | None = None, **_: Any) -> Any:
    """`page.wait_for_function(expression)` under the UI's Content-Security-Policy: the value of `expression` once it
    is truthy, TimeoutError after `timeout` ms.

    Playwright's own evaluates the expression with the page's `eval`, which the policy (script-src 'self', no
    'unsafe-eval') refuses; `page.evaluate` goes through the DevTools protocol, which the policy does not govern.
    """
    deadline = time.monotonic() + (DEFAULT_TIMEOUT_MS if timeout is None else timeout) / 1000
    while True:
        try:
            value = page.evaluate(expression)
        except PlaywrightError as error:
            if "Execution context was destroyed" not in str(error):  # a navigation: ask the next page
                raise
            value = None
        if value:
            return value
        if time.monotonic() > deadline:
            raise PlaywrightTimeoutError(f"Timeout {timeout or DEFAULT_TIMEOUT_MS} ms waiting for {expression}")
        page.wait_for_timeout(WAIT_POLL_MS)


def follow(page: Any, rel: str) -> None:
    """Click the page's `rel` link and wait for the page it leads to (reading the rows or the links before it has
    loaded saw the page being left: a walk that stopped short on a loaded machine)."""
    with page.expect_navigation():
        page.click(f"a[rel={rel}]")


TEST_FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Note on the test whether its setup or call failed, for `page` to screenshot it."""
    report = yield
    if report.failed and report.when in ("setup", "call"):
        item.stash[TEST_FAILED] = True
    return report


@pytest.fixture
def page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh browser page; the test fails on any JavaScript error (a Content-Security-Policy violation included),
    and a screenshot of a failed test's page is kept (of every test's with BATON_TEST_SCREENSHOTS=all: a full-page
    screenshot is a large part of a short test's CPU)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, timezone_id="Europe/Berlin")
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    page = context.new_page()
    page.wait_for_function = lambda expression, **options: wait_for_expression(page, expression, **options)
    errors = BrowserErrors([])
    page.on("pageerror", lambda error: errors.messages.append(f"page error: {error}"))
    page.on(
        "console",
        lambda message: (
            errors.messages.append(f"console {message.type}: {message.text}") if message.type == "error" else None
        ),
    )
    page.browser_errors = errors  # type: ignore[attr-defined]
    yield page
    try:
        if request.node.stash.get(TEST_FAILED, False) or SCREENSHOT_EVERY_TEST:
            folder = ARTIFACTS_DIR / "screenshots"
            folder.mkdir(parents=True, exist_ok=True)
            name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid.removeprefix("tests/webui/"))
            try:
                page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
            except PlaywrightError as error:
                # The screenshot is a diagnostic; Chromium sometimes cannot capture one on a loaded machine ("Unable
                # to capture screenshot"), which says nothing about the page under test.
                print(f"No screenshot of {request.node.nodeid}: {error}", file=sys.stderr)
    finally:
        context.close()
    assert not errors.messages, "the browser reported errors:\n" + "\n".join(errors.messages)
