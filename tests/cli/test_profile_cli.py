"""`baton profile ...` run as a subprocess, the way a user types it."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path


def _environ(home: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("BATON_", "PREFECT_"))}
    env["BATON_HOME"] = str(home)
    return env


def _baton(env: dict[str, str], *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "baton", *args], env=env, input=stdin, capture_output=True, text=True, timeout=60
    )


def test_profile_lifecycle(tmp_path: Path) -> None:
    env = _environ(tmp_path)
    assert _baton(env, "config", "set", "BATON_API_URL=http://dev:4200/api").returncode == 0

    result = _baton(env, "profile", "create", "staging", "--from", "default")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["Created profile 'staging'.", "Switch to it with: baton profile use staging"]

    result = _baton(env, "profile", "use", "staging")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "Switched to profile 'staging'."

    result = _baton(env, "profile", "rename", "staging", "prod")
    assert result.returncode == 0, result.stderr
    result = _baton(env, "profile", "ls")
    assert result.stdout.splitlines() == ["  default", "* prod"]

    result = _baton(env, "profile", "inspect")
    assert result.stdout.splitlines() == ["BATON_API_URL='http://dev:4200/api'"]

    result = _baton(env, "profile", "delete", "prod", "-y")
    assert result.returncode == 1
    assert "Profile 'prod' is the active profile and cannot be deleted" in result.stderr
    assert "baton profile use" in result.stderr

    result = _baton(env, "profile", "delete", "default", stdin="n\n")
    assert result.returncode == 1
    result = _baton(env, "profile", "delete", "default", "-y")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "Deleted profile 'default'."

    saved = tomllib.loads((tmp_path / "profiles.toml").read_text())
    assert saved == {"active": "prod", "profiles": {"prod": {"BATON_API_URL": "http://dev:4200/api"}}}


def test_profile_errors_and_empty_inspect(tmp_path: Path) -> None:
    env = _environ(tmp_path)
    result = _baton(env, "profile", "inspect")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "Profile 'default' is empty."
    result = _baton(env, "profile", "use", "missing")
    assert result.returncode == 1
    assert "Profile 'missing' does not exist. Available profiles: default." in result.stderr
    result = _baton(env, "profile", "create", "bad name")
    assert result.returncode == 1
    assert "Invalid profile name 'bad name'" in result.stderr
