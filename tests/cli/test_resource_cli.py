"""`baton variable|artifact|block ...` run as subprocesses against a real Baton server, the way a user types them."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from baton.client import BatonClient
from baton.errors import ObjectAlreadyExists, ObjectNotFound, ServiceUnavailable, ValidationFailed

SECRET_VALUE = "pa55-plaintext-4e1f"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _environ(home: Path, **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("BATON_", "PREFECT_"))}
    env["BATON_HOME"] = str(home)
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def api_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The /api URL of a Baton server on embedded SQLite, started once for this module."""
    home = tmp_path_factory.mktemp("server-home")
    port = _free_port()
    url = f"http://127.0.0.1:{port}/api"
    log_path = home / "server.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "baton", "server", "start", "--port", str(port), "--no-ui"],
            env=_environ(home),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 20
            while process.poll() is None and time.monotonic() < deadline:
                try:
                    if httpx.get(f"{url}/health", timeout=1).json() is True:
                        break
                except httpx.HTTPError:
                    time.sleep(0.05)
            else:
                pytest.fail(f"The server did not become healthy:\n{log_path.read_text()}")
            yield url
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture(scope="module")
def env(api_url: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return _environ(tmp_path_factory.mktemp("cli-home"), BATON_API_URL=api_url)


@pytest.fixture(scope="module")
def api(api_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=api_url, timeout=10) as client:
        yield client


def baton(env: dict[str, str], *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "baton", *args], env=env, input=stdin, capture_output=True, text=True, timeout=30
    )


def ok(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    """The stdout of a command that must succeed."""
    result = baton(env, *args, stdin=stdin)
    assert result.returncode == 0, f"{args}: {result.stderr}"
    assert "Traceback" not in result.stderr
    return result.stdout


def fails(env: dict[str, str], *args: str, code: int = 1, stdin: str | None = None) -> str:
    """The stderr of a command that must fail with exit code `code`, without a traceback."""
    result = baton(env, *args, stdin=stdin)
    assert result.returncode == code, f"{args}: {result.stdout}{result.stderr}"
    assert "Traceback" not in result.stderr
    return result.stderr


def table(stdout: str) -> list[list[str]]:
    """The cells of a printed table, cut at the header's column starts; checks every row is aligned to them."""
    header, *rows = stdout.splitlines()
    starts = [index for index, char in enumerate(header) if char != " " and (index == 0 or header[index - 1] == " ")]
    # "UPDATED (UTC)" is one column whose title holds a space.
    starts = [start for start in starts if not header[start:].startswith("(UTC)")]
    cells = []
    for line in [header, *rows]:
        for start in starts[1:]:
            assert line[start - 2 : start] == "  ", f"column not aligned at {start}: {line!r}"
        bounds = [*starts, len(line)]
        cells.append([line[bounds[i] : bounds[i + 1]].strip() for i in range(len(starts))])
    return cells


# --- variables -------------------------------------------------------------------------------------------------------


def test_variable_set_get_ls_inspect_unset(env: dict[str, str], api: httpx.Client) -> None:
    assert ok(env, "variable", "set", "greeting", "hello") == "Created variable 'greeting'.\n"
    ok(env, "variable", "set", "limits", '{"rows": [1, 2], "on": true}', "--tag", "etl", "--tag", "prod")
    ok(env, "variable", "set", "answer", "42")
    ok(env, "variable", "set", "quoted", '"42"')
    stored = api.get("/variables/name/limits").json()
    assert (stored["value"], stored["tags"]) == ({"rows": [1, 2], "on": True}, ["etl", "prod"])
    assert api.get("/variables/name/answer").json()["value"] == 42
    assert api.get("/variables/name/quoted").json()["value"] == "42"

    assert ok(env, "variable", "get", "greeting") == "hello\n"
    assert ok(env, "variable", "get", "greeting", "--json") == '"hello"\n'
    assert json.loads(ok(env, "variable", "get", "limits")) == {"rows": [1, 2], "on": True}

    taken = fails(env, "variable", "set", "greeting", "bye")
    assert "Variable 'greeting' already exists; use --overwrite" in taken
    assert ok(env, "variable", "set", "greeting", "bye", "--overwrite") == "Updated variable 'greeting'.\n"
    assert ok(env, "variable", "set", "fresh", "1", "--overwrite") == "Created variable 'fresh'.\n"
    assert api.get("/variables/name/greeting").json()["value"] == "bye"

    rows = table(ok(env, "variable", "ls"))
    assert rows[0] == ["NAME", "VALUE", "TAGS", "UPDATED (UTC)"]
    by_name = {row[0]: row for row in rows[1:]}
    assert by_name["greeting"][1:3] == ['"bye"', "-"]
    assert by_name["limits"][1:3] == ['{"rows": [1, 2], "on": true}', "etl, prod"]
    assert [row[0] for row in rows[1:]] == sorted(by_name)
    listed = json.loads(ok(env, "variable", "ls", "--json"))
    assert {item["name"]: item["value"] for item in listed}["answer"] == 42
    limited = baton(env, "variable", "ls", "--limit", "1")
    assert len(limited.stdout.splitlines()) == 2
    assert "Showing the first 1 variables; use --limit to see more." in limited.stderr

    inspected = ok(env, "variable", "inspect", "limits").splitlines()
    assert inspected[0] == "Name           limits"
    assert "Tags           etl, prod" in inspected
    assert '                 "on": true' in inspected
    assert json.loads(ok(env, "variable", "inspect", "limits", "--json"))["id"] == stored["id"]

    assert "Aborted" in fails(env, "variable", "unset", "greeting", stdin="n\n")
    assert api.get("/variables/name/greeting").status_code == 200
    assert ok(env, "variable", "unset", "greeting", "-y") == "Deleted variable 'greeting'.\n"
    assert api.get("/variables/name/greeting").status_code == 404


def test_variable_errors(env: dict[str, str]) -> None:
    assert fails(env, "variable", "get", "no-such-variable") == "Error: No variable is named 'no-such-variable'.\n"
    assert "No variable is named 'no-such-variable'" in fails(env, "variable", "unset", "no-such-variable", "-y")
    bad_name = fails(env, "variable", "set", "Not Allowed", "1")
    assert "lowercase letters, digits, dashes and underscores" in bad_name
    assert "Invalid value" in fails(env, "variable", "ls", "--limit", "0", code=2)


# --- artifacts -------------------------------------------------------------------------------------------------------


def _artifact(api: httpx.Client, **body: Any) -> dict[str, Any]:
    response = api.post("/artifacts/", json=body)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def test_artifact_ls_inspect_delete(env: dict[str, str], api: httpx.Client) -> None:
    first = _artifact(api, key="sales-report", type="markdown", data="# Sales\nweek 1", description="Week 1")
    second = _artifact(api, key="sales-report", type="markdown", data="# Sales\nweek 2", description="Week 2")
    other = _artifact(api, key="row-counts", type="table", data=[{"table": "orders", "rows": 10}])
    keyless = _artifact(api, type="link", data="https://example.com/run", description="A link")

    rows = table(ok(env, "artifact", "ls"))
    assert rows[0] == ["KEY", "TYPE", "DESCRIPTION", "UPDATED (UTC)", "ID"]
    latest = {row[0]: row for row in rows[1:]}
    assert latest["sales-report"][1:3] == ["markdown", "Week 2"]
    assert latest["sales-report"][4] == second["id"]
    assert latest["row-counts"][4] == other["id"]
    assert "-" not in latest  # A keyless artifact has no latest version.
    every = table(ok(env, "artifact", "ls", "--all"))
    ids = [row[4] for row in every[1:]]
    assert {first["id"], second["id"], other["id"], keyless["id"]} <= set(ids)
    assert ids.index(keyless["id"]) < ids.index(second["id"]) < ids.index(first["id"])  # Newest first.
    assert {item["key"] for item in json.loads(ok(env, "artifact", "ls", "--json"))} >= {"sales-report", "row-counts"}

    versions = ok(env, "artifact", "inspect", "sales-report").split("\n\n")
    assert len(versions) == 2
    assert versions[0].splitlines()[:3] == [
        "Version        2 of 2",
        "Key            sales-report",
        f"ID             {second['id']}",
    ]
    assert "Data           # Sales\n               week 2" in versions[0]
    assert "week 1" in versions[1]
    assert [item["id"] for item in json.loads(ok(env, "artifact", "inspect", "sales-report", "--json"))] == [
        second["id"],
        first["id"],
    ]
    assert "No artifact has the key 'no-such-key'." in fails(env, "artifact", "inspect", "no-such-key")

    assert ok(env, "artifact", "delete", "--id", second["id"], "-y") == f"Deleted artifact {second['id']}.\n"
    assert api.get(f"/artifacts/{second['id']}").status_code == 404
    assert api.get("/artifacts/sales-report/latest").json()["description"] == "Week 1"
    assert "Aborted" in fails(env, "artifact", "delete", "row-counts", stdin="n\n")
    assert api.get(f"/artifacts/{other['id']}").status_code == 200
    deleted = ok(env, "artifact", "delete", "row-counts", stdin="y\n")
    assert "Delete 1 version of artifact 'row-counts'?" in deleted
    assert "Deleted 1 version of artifact 'row-counts'." in deleted
    assert api.get(f"/artifacts/{other['id']}").status_code == 404
    assert "No artifact has the key 'row-counts'." in fails(env, "artifact", "delete", "row-counts", "-y")
    assert "Give either an artifact KEY or --id ID." in fails(env, "artifact", "delete", code=2)
    assert f"Artifact {second['id']} does not exist." in fails(env, "artifact", "delete", "--id", second["id"], "-y")


# --- blocks ----------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def secret_block(api: httpx.Client) -> dict[str, Any]:
    """A block document of the built-in "secret" type named db-password, created over HTTP."""
    block_type = api.get("/block_types/slug/secret").json()
    schemas = api.post("/block_schemas/filter", json={"block_schemas": {"block_type_id": {"any_": [block_type["id"]]}}})
    body = {
        "name": "db-password",
        "data": {"value": SECRET_VALUE},
        "block_schema_id": schemas.json()[0]["id"],
        "block_type_id": block_type["id"],
    }
    response = api.post("/block_documents/", json=body)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def test_block_type_ls(env: dict[str, str]) -> None:
    rows = table(ok(env, "block", "type", "ls"))
    assert rows[0] == ["SLUG", "NAME", "DESCRIPTION"]
    assert ["secret", "Secret"] == next(row[:2] for row in rows if row[0] == "secret")
    assert {"slack-webhook", "json", "local-file-system"} <= {row[0] for row in rows[1:]}
    assert "secret" in {item["slug"] for item in json.loads(ok(env, "block", "type", "ls", "--json"))}


def test_block_ls_and_inspect_hide_secrets(env: dict[str, str], secret_block: dict[str, Any]) -> None:
    rows = table(ok(env, "block", "ls"))
    assert rows[0] == ["BLOCK", "TYPE", "UPDATED (UTC)", "ID"]
    row = next(row for row in rows if row[0] == "secret/db-password")
    assert (row[1], row[3]) == ("Secret", secret_block["id"])
    by_name = ok(env, "block", "inspect", "secret/db-password")
    assert by_name == ok(env, "block", "inspect", "--id", secret_block["id"])
    assert "Block          secret/db-password" in by_name
    assert '"value": "********"' in by_name
    assert SECRET_VALUE not in by_name + ok(env, "block", "ls", "--json")
    assert json.loads(ok(env, "block", "inspect", "secret/db-password", "--json"))["id"] == secret_block["id"]


def test_block_errors_and_delete(env: dict[str, str], api: httpx.Client, secret_block: dict[str, Any]) -> None:
    missing = fails(env, "block", "inspect", "secret/no-such-block")
    assert "Block document 'no-such-block' of block type 'secret' not found." in missing
    assert "expected SLUG/NAME" in fails(env, "block", "inspect", "db-password", code=2)
    assert "Give either a block as SLUG/NAME or --id ID." in fails(env, "block", "delete", code=2)
    assert "is not a valid UUID" in fails(env, "block", "inspect", "--id", "12", code=2)

    assert "Aborted" in fails(env, "block", "delete", "secret/db-password", stdin="n\n")
    assert api.get(f"/block_documents/{secret_block['id']}").status_code == 200
    assert ok(env, "block", "delete", "secret/db-password", "-y") == "Deleted block 'secret/db-password'.\n"
    assert api.get(f"/block_documents/{secret_block['id']}").status_code == 404
    assert "not found" in fails(env, "block", "delete", "--id", secret_block["id"], "-y")


# --- no server, and the SDK client --------------------------------------------------------------------------------


def test_commands_say_how_to_reach_a_server_when_none_is_running(tmp_path: Path) -> None:
    port = _free_port()
    url = f"http://127.0.0.1:{port}/api"
    for env in (_environ(tmp_path, BATON_API_URL=url), _environ(tmp_path, BATON_SERVER_API_PORT=str(port))):
        message = fails(env, "variable", "ls")
        assert message.startswith(f"Error: Cannot reach the Baton API at {url}.")
        assert "`baton server start`" in message and "BATON_API_URL" in message
    bad_url = fails(_environ(tmp_path, BATON_API_URL="localhost:4200/api"), "block", "ls")
    assert "'localhost:4200/api' is not an http:// or https:// URL" in bad_url


def test_client_maps_api_errors_to_baton_errors(api_url: str) -> None:
    with BatonClient(api_url) as client:
        client.create_variable("client-made", [1, "two"], tags=["sdk"])
        assert client.read_variable_by_name("client-made")["value"] == [1, "two"]
        with pytest.raises(ObjectAlreadyExists, match="already exists"):
            client.create_variable("client-made", 1)
        with pytest.raises(ValidationFailed) as invalid:
            client.create_variable("Bad Name", 1)
        assert invalid.value.detail[0]["loc"] == ["body", "name"]
        client.delete_variable_by_name("client-made")
        with pytest.raises(ObjectNotFound):
            client.read_variable_by_name("client-made")
    with BatonClient(f"http://127.0.0.1:{_free_port()}/api") as client, pytest.raises(ServiceUnavailable):
        client.read_block_types()
