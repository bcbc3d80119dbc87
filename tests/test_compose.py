"""compose.yaml, the Dockerfile and the proxy's nginx configuration checked against Baton itself: its settings, its
commands and their options.

Nothing here starts a container (tests/compose_stack/ runs the stack for real, when asked); instead every name the
files use must be one Baton knows, and every `baton ...` command must answer `--help` in a real subprocess.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click
import pytest
import yaml

from baton.cli.main import cli
from baton.settings import SETTING_NAMES, load_settings

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "compose.yaml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
NGINX_CONFIG = ROOT / "deploy" / "nginx" / "baton.conf"

API_SERVICES = ("api-1", "api-2")
BATON_SERVICES = ("migrate", *API_SERVICES, "services")
LONG_RUNNING_SERVICES = ("postgres", "redis", *API_SERVICES, "proxy", "services")
# A reference `${NAME}`, `${NAME:-default}`, `${NAME-default}` or `${NAME:?error}` (required: Compose refuses to
# start without it) that Compose fills in from the host environment.
INTERPOLATION = re.compile(r"\$\{(?P<name>\w+)(?:(?P<operator>:?[-?])(?P<argument>[^}]*))?\}")
BATON_VARIABLE = re.compile(r"\bBATON_[A-Z0-9_]+\b")
# Variables of the host's environment (or .env) that are no Baton setting, only read by compose.yaml.
HOST_VARIABLES = {
    "BATON_ADMIN_KEY",
    "BATON_HTTP_PORT",
    "BATON_IMAGE",
    "BATON_BASE_IMAGE",
    "BATON_POSTGRES_IMAGE",
    "BATON_REDIS_IMAGE",
    "BATON_NGINX_IMAGE",
}
# What the tests give BATON_ADMIN_KEY, which compose.yaml requires.
ADMIN_KEY = "baton_compose-test-admin-key"


class MissingVariable(Exception):
    """Compose would refuse to start: a required variable is not set."""


def load_compose() -> dict[str, Any]:
    """compose.yaml as plain data, with its YAML anchors and merge keys resolved."""
    data = yaml.safe_load(COMPOSE_FILE.read_text())
    assert isinstance(data, dict), "compose.yaml is not a mapping"
    return data


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) for each instruction of the Dockerfile, continuation lines joined, comments dropped."""
    lines = [line for line in DOCKERFILE.read_text().splitlines() if not line.lstrip().startswith("#")]
    joined = re.sub(r"\\\n\s*", " ", "\n".join(lines))
    instructions = []
    for line in joined.splitlines():
        if line.strip():
            keyword, _, arguments = line.strip().partition(" ")
            instructions.append((keyword.upper(), arguments.strip()))
    return instructions


def dockerfile_cmd() -> list[str]:
    """The Dockerfile's last CMD, which must be in exec (JSON array) form."""
    commands = [arguments for keyword, arguments in dockerfile_instructions() if keyword == "CMD"]
    assert commands, "the Dockerfile has no CMD"
    argv = json.loads(commands[-1])
    assert isinstance(argv, list) and all(isinstance(word, str) for word in argv), "CMD is not a JSON array of strings"
    return argv


def as_argv(command: str | list[str]) -> list[str]:
    return shlex.split(command) if isinstance(command, str) else [str(word) for word in command]


def environment_of(service: dict[str, Any]) -> dict[str, Any]:
    """A service's environment as a mapping, whether the file writes it as a mapping or as NAME=VALUE items."""
    environment = service.get("environment") or {}
    if isinstance(environment, list):
        return dict(item.partition("=")[::2] for item in environment)
    return dict(environment)


def interpolate(value: str, host_environment: dict[str, str] | None = None) -> str:
    """`value` as Compose would pass it to the container, given the host's environment (empty by default)."""
    host_environment = host_environment or {}

    def replace(match: re.Match[str]) -> str:
        value = host_environment.get(match["name"])
        if match["operator"] in (":?", "?") and not value:
            raise MissingVariable(f"required variable {match['name']} is missing a value: {match['argument']}")
        if match["operator"] in (":-", "-"):
            return value or match["argument"]
        return value or ""

    return INTERPOLATION.sub(replace, value)


def baton_commands() -> list[Any]:
    """A pytest param (where, argv) for every command in compose.yaml and the Dockerfile that runs `baton`."""
    commands = [
        (f"service {name}", as_argv(service["command"]))
        for name, service in load_compose()["services"].items()
        if "command" in service and as_argv(service["command"])[0] == "baton"
    ]
    commands.append(("Dockerfile CMD", dockerfile_cmd()))
    return [pytest.param(where, argv, id=where.replace(" ", "-")) for where, argv in commands]


def split_command(argv: list[str]) -> tuple[list[str], list[str]]:
    """(subcommand words after `baton`, options used), e.g. (["server", "start"], ["--host", "--port"])."""
    words = []
    for word in argv[1:]:
        if word.startswith("-"):
            break
        words.append(word)
    options = [word.split("=", 1)[0] for word in argv[1 + len(words) :] if word.startswith("-") and word != "-"]
    return words, options


def test_compose_defines_the_baton_stack() -> None:
    services = load_compose()["services"]
    assert {"postgres", "redis", "migrate", *API_SERVICES, "proxy", "services"} <= set(services)
    assert re.fullmatch(r"postgres:1[67](\..*|-.*)?", interpolate(services["postgres"]["image"]))
    assert as_argv(services["redis"]["command"])[:3] == ["redis-server", "--appendonly", "yes"]
    # Only the proxy is published: the replicas are reached through it.
    assert [interpolate(str(port)) for port in services["proxy"].get("ports", [])] == ["4200:80"]
    assert interpolate(services["proxy"]["ports"][0], {"BATON_HTTP_PORT": "8080"}) == "8080:80"
    assert all("ports" not in services[name] for name in BATON_SERVICES)


@pytest.mark.parametrize(
    "service, variable, official",
    [
        ("postgres", "BATON_POSTGRES_IMAGE", "postgres:17"),
        ("redis", "BATON_REDIS_IMAGE", "redis:7"),
        ("proxy", "BATON_NGINX_IMAGE", "nginx:1.27"),
        ("api-1", "BATON_IMAGE", "baton:local"),
    ],
)
def test_images_default_to_the_official_ones_and_can_be_replaced(service: str, variable: str, official: str) -> None:
    image = load_compose()["services"][service]["image"]
    assert interpolate(image) == official
    assert interpolate(image, {variable: "mirror.example/local:1"}) == "mirror.example/local:1"


def test_the_baton_image_builds_on_a_replaceable_base() -> None:
    build = load_compose()["services"]["migrate"]["build"]
    assert interpolate(build["args"]["BASE_IMAGE"]) == "python:3.12-slim"
    assert interpolate(build["args"]["BASE_IMAGE"], {"BATON_BASE_IMAGE": "debian-python:1"}) == "debian-python:1"


def test_the_api_replicas_are_the_same_server() -> None:
    services = load_compose()["services"]
    first, second = (
        {key: value for key, value in services[name].items() if key != "depends_on"} for name in API_SERVICES
    )
    assert first == second
    # The second starts after the first: only one of them installs the built-in data on a new database.
    assert services["api-2"]["depends_on"] == {
        **services["api-1"]["depends_on"],
        "api-1": {"condition": "service_healthy"},
    }
    # Both answer to `api`, the host of BATON_API_URL.
    assert services["api-1"]["networks"]["default"]["aliases"] == ["api"]


def test_the_proxy_serves_every_api_replica_and_passes_websockets_on() -> None:
    proxy = load_compose()["services"]["proxy"]
    assert "./deploy/nginx/baton.conf:/etc/nginx/conf.d/default.conf:ro" in proxy["volumes"]
    conditions = {name: dependency["condition"] for name, dependency in proxy["depends_on"].items()}
    assert conditions == dict.fromkeys(API_SERVICES, "service_healthy")
    config = NGINX_CONFIG.read_text()
    upstream = re.search(r"upstream baton_api \{(?P<body>[^}]*)\}", config)
    assert upstream, "no upstream baton_api"
    assert re.findall(r"^\s*server ([\w-]+):4200\b", upstream["body"], re.MULTILINE) == list(API_SERVICES)
    assert "proxy_pass http://baton_api;" in config
    for header in ("Upgrade $http_upgrade", "Connection $connection_upgrade", "Host $http_host"):
        assert f"proxy_set_header {header};" in config, f"the proxy does not pass on {header.split()[0]}"
    assert "proxy_http_version 1.1;" in config, "websockets need HTTP/1.1 to the upstream"


def test_every_baton_service_runs_the_image_built_from_this_dockerfile() -> None:
    services = load_compose()["services"]
    images = {services[name].get("image") for name in BATON_SERVICES}
    builds = [services[name].get("build") for name in BATON_SERVICES]
    contexts = {build.get("context") if isinstance(build, dict) else build for build in builds}
    assert len(images) == 1 and None not in images, f"Baton services run different images: {images}"
    assert contexts == {"."}, f"Baton services must all build this folder, which holds the Dockerfile: {contexts}"


@pytest.mark.parametrize("service, path", [("postgres", "/var/lib/postgresql/data"), ("redis", "/data")])
def test_data_lives_in_a_named_volume(service: str, path: str) -> None:
    compose = load_compose()
    named_volumes = set(compose.get("volumes") or {})
    mounts = [
        dict(zip(("source", "target"), mount.split(":"), strict=False)) if isinstance(mount, str) else mount
        for mount in compose["services"][service].get("volumes", [])
    ]
    sources = {mount.get("source") for mount in mounts if mount.get("target") == path}
    assert sources, f"{service} mounts nothing at {path}"
    assert sources <= named_volumes, f"{service} keeps {path} in {sources}, not in a named volume {named_volumes}"


@pytest.mark.parametrize(
    "service, probe",
    [
        ("postgres", "pg_isready"),
        ("redis", "redis-cli ping"),
        ("api-1", "http://127.0.0.1:4200/api/ready"),
        ("api-2", "http://127.0.0.1:4200/api/ready"),
        ("proxy", "http://127.0.0.1/api/health"),
        ("services", ".ping()"),
    ],
)
def test_long_running_services_have_health_checks(service: str, probe: str) -> None:
    healthcheck = load_compose()["services"][service].get("healthcheck") or {}
    assert not healthcheck.get("disable"), f"{service} disables its health check"
    assert probe in " ".join(as_argv(healthcheck.get("test", []))), f"{service}'s health check does not run {probe}"


def test_the_migration_turns_off_the_image_health_check() -> None:
    # The image's HEALTHCHECK probes the API port, so without this the one-off job would be marked unhealthy.
    assert load_compose()["services"]["migrate"].get("healthcheck") == {"disable": True}


def test_every_service_is_accounted_for() -> None:
    assert set(load_compose()["services"]) == {*LONG_RUNNING_SERVICES, "migrate"}


def test_restart_policies() -> None:
    services = load_compose()["services"]
    for name in LONG_RUNNING_SERVICES:
        assert services[name].get("restart") == "unless-stopped", f"{name} does not restart unless stopped"
    assert services["migrate"].get("restart", "no") == "no", "the migration must run once, not restart"


def test_start_order_waits_for_healthy_stores_and_a_finished_migration() -> None:
    services = load_compose()["services"]
    expected = {
        "migrate": {"postgres": "service_healthy"},
        **dict.fromkeys(
            API_SERVICES,
            {"postgres": "service_healthy", "redis": "service_healthy", "migrate": "service_completed_successfully"},
        ),
        "services": {
            "postgres": "service_healthy",
            "redis": "service_healthy",
            "migrate": "service_completed_successfully",
        },
    }
    for name, conditions in expected.items():
        depends_on = services[name].get("depends_on") or {}
        assert isinstance(depends_on, dict), f"{name}'s depends_on has no conditions"
        actual = {dependency: (depends_on.get(dependency) or {}).get("condition") for dependency in conditions}
        assert actual == conditions, f"{name} depends on {actual}, expected {conditions}"


def test_every_baton_variable_is_a_baton_setting() -> None:
    # Anywhere in the files: environment keys, ${...} references and comments alike.
    used = set(BATON_VARIABLE.findall(COMPOSE_FILE.read_text())) | set(BATON_VARIABLE.findall(DOCKERFILE.read_text()))
    assert "BATON_API_DATABASE_CONNECTION_URL" in used  # the scan found what it should
    unknown = sorted(used - set(SETTING_NAMES) - HOST_VARIABLES)
    assert not unknown, f"not Baton settings (see baton/settings.py): {unknown}"


def test_environment_values_are_strings() -> None:
    # YAML reads false, 4200 or on as non-strings; Compose wants the text the container will see.
    for name, service in load_compose()["services"].items():
        for key, value in environment_of(service).items():
            assert isinstance(value, str), f"{name}: {key} is {value!r}; quote it"


@pytest.mark.parametrize("service", BATON_SERVICES)
def test_baton_reads_the_compose_environment(service: str, tmp_path: Path) -> None:
    written = environment_of(load_compose()["services"][service])
    environment = {key: interpolate(value, {"BATON_ADMIN_KEY": ADMIN_KEY}) for key, value in written.items()}
    settings = load_settings({**environment, "BATON_HOME": str(tmp_path)})
    assert settings.api_database_connection_url == "postgresql+asyncpg://postgres:baton@postgres:5432/baton"
    assert settings.redis_url == "redis://redis:6379/0"
    if service != "migrate":
        assert settings.api_database_migrate_on_start is False, f"{service} would race the migrate service"
    if service in API_SERVICES:
        assert settings.server_api_host == "0.0.0.0"


def test_the_api_server_runs_with_authentication_and_a_required_admin_key(tmp_path: Path) -> None:
    from baton.server.browser_guard import HostAllowList
    from baton.server.listen_address import check_listen_address

    written = environment_of(load_compose()["services"]["api-1"])
    with pytest.raises(MissingVariable, match="BATON_ADMIN_KEY"):
        {key: interpolate(value) for key, value in written.items()}
    assert "BATON_ADMIN_KEY" in written["BATON_AUTH_BOOTSTRAP_ADMIN_KEY"].partition(":?")[2], "no error message"
    host_environment = {"BATON_ADMIN_KEY": ADMIN_KEY}
    environment = {key: interpolate(value, host_environment) for key, value in written.items()}
    settings = load_settings({**environment, "BATON_HOME": str(tmp_path)})
    assert settings.auth_enabled is True and settings.auth_allow_anonymous is False
    assert settings.auth_bootstrap_admin_key is not None
    assert settings.auth_bootstrap_admin_key.get_secret_value() == ADMIN_KEY
    assert settings.api_key is not None and settings.api_key.get_secret_value() == ADMIN_KEY  # the CLI in the container
    # `baton server start --host 0.0.0.0` starts (it refuses a network address with authentication off) ...
    assert check_listen_address(settings, "0.0.0.0") is None
    # ... and answers the names it is reached by: the published port on the host, the other containers.
    hosts = HostAllowList.from_settings(settings, "0.0.0.0")
    assert all(hosts.allows(host) for host in ("127.0.0.1:4200", "localhost:4200", "api:4200"))
    assert not hosts.allows("rebound.example")
    extra = {**host_environment, "BATON_SERVER_ALLOWED_HOSTS": "baton.example.com"}
    environment = {key: interpolate(value, extra) for key, value in written.items()}
    extended = load_settings({**environment, "BATON_HOME": str(tmp_path)})
    assert extended.server_allowed_hosts == ("baton.example.com",)
    hosts = HostAllowList.from_settings(extended, "0.0.0.0")
    assert all(hosts.allows(host) for host in ("baton.example.com", "127.0.0.1:4200", "api:4200"))


def test_the_database_url_matches_the_postgres_service() -> None:
    services = load_compose()["services"]
    postgres = environment_of(services["postgres"])
    for name in BATON_SERVICES:
        url = urlsplit(environment_of(services[name])["BATON_API_DATABASE_CONNECTION_URL"])
        assert url.scheme == "postgresql+asyncpg"
        assert (url.hostname, url.port) == ("postgres", 5432)
        # Compared before interpolation: both must read the password from the same variable with the same default.
        assert (url.username, url.password) == (postgres["POSTGRES_USER"], postgres["POSTGRES_PASSWORD"])
        assert url.path == "/" + postgres["POSTGRES_DB"]
    changed = {"POSTGRES_PASSWORD": "s3cret"}
    assert interpolate(postgres["POSTGRES_PASSWORD"], changed) == "s3cret"


@pytest.mark.parametrize("where, argv", baton_commands())
def test_baton_commands_exist_and_take_their_options(where: str, argv: list[str]) -> None:
    words, options = split_command(argv)
    result = subprocess.run(
        [sys.executable, "-m", "baton", *words, "--help"], capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    shown = " ".join(["baton", *words])
    assert result.returncode == 0, f"{where}: `{shown} --help` failed:\n{result.stdout}{result.stderr}"
    for option in options:
        assert re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", result.stdout), (
            f"{where}: `{shown} --help` does not list {option}"
        )
    # The whole command line must parse: each option takes a value of the right type, no stray arguments.
    command: click.Command = cli
    for word in words:
        assert isinstance(command, click.Group)
        found = command.get_command(click.Context(command), word)
        assert found is not None, f"{where}: no command {word!r}"
        command = found
    command.make_context(shown, argv[1 + len(words) :])


def test_dockerfile_builds_a_non_root_baton_image() -> None:
    instructions = dockerfile_instructions()
    arguments = {keyword: [args for kw, args in instructions if kw == keyword] for keyword, _ in instructions}
    assert arguments["ARG"][0] == "BASE_IMAGE=python:3.12-slim"
    assert arguments["FROM"][0] == "${BASE_IMAGE}"
    assert any("pip install --no-cache-dir ." in run for run in arguments["RUN"])
    assert arguments["USER"][-1] not in {"root", "0"}
    assert "4200" in arguments["EXPOSE"][-1].split()
    healthcheck = arguments["HEALTHCHECK"][-1]
    assert "python" in healthcheck and "http://127.0.0.1:4200/api/health" in healthcheck
    assert any(re.search(r"\bBATON_HOME=\S+", env) for env in arguments["ENV"]), "BATON_HOME is not set"
    assert dockerfile_cmd() == ["baton", "server", "start", "--host", "0.0.0.0"]


def test_dockerignore_keeps_what_the_dockerfile_copies() -> None:
    patterns = [line.strip() for line in DOCKERIGNORE.read_text().splitlines()]
    patterns = [pattern for pattern in patterns if pattern and not pattern.startswith("#")]
    assert patterns[0] == "*", ".dockerignore should list what the image needs, not what it does not"
    kept = {pattern[1:].rstrip("/") for pattern in patterns if pattern.startswith("!")}
    copied = [
        source.rstrip("/")
        for keyword, args in dockerfile_instructions()
        if keyword == "COPY" and "--from" not in args
        for source in args.split()[:-1]
    ]
    assert copied, "the Dockerfile copies nothing"
    missing = [source for source in copied if source not in kept]
    assert not missing, f".dockerignore leaves out what the Dockerfile copies: {missing}"
