"""`baton config ...` run as a subprocess, the way a user types it."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path


def _environ(home: Path, **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("BATON_", "PREFECT_"))}
    env["BATON_HOME"] = str(home)
    env.update(extra)
    return env


def _baton(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "baton", *args], env=env, capture_output=True, text=True, timeout=60)


def test_set_view_override_and_unset(tmp_path: Path) -> None:
    env = _environ(tmp_path)
    result = _baton(
        env,
        "config",
        "set",
        "server_api_port=5000",
        "BATON_API_DATABASE_CONNECTION_URL=postgresql+asyncpg://baton:hunter2@db/baton",
    )
    assert result.returncode == 0, result.stderr
    assert "Set BATON_SERVER_API_PORT to '5000' in profile 'default'." in result.stdout
    assert "baton:********@db/baton" in result.stdout
    assert "hunter2" not in result.stdout
    saved = tomllib.loads((tmp_path / "profiles.toml").read_text())
    assert saved["profiles"]["default"]["BATON_SERVER_API_PORT"] == "5000"

    overridden = _environ(tmp_path, BATON_LOGGING_LEVEL="debug")
    result = _baton(overridden, "config", "view", "--show-sources")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "Profile: default"
    assert "BATON_SERVER_API_PORT='5000' (from profile)" in lines
    assert "BATON_LOGGING_LEVEL='DEBUG' (from env)" in lines
    assert "BATON_API_DATABASE_CONNECTION_URL='postgresql+asyncpg://baton:********@db/baton' (from profile)" in lines
    assert not any(line.startswith("BATON_REDIS_NAMESPACE") for line in lines)

    result = _baton(overridden, "config", "set", "BATON_LOGGING_LEVEL=warning")
    assert result.returncode == 0, result.stderr
    assert "overrides the profile" in result.stderr

    result = _baton(env, "config", "unset", "server_api_port")
    assert result.returncode == 0, result.stderr
    assert "Unset BATON_SERVER_API_PORT in profile 'default'." in result.stdout
    result = _baton(env, "config", "view", "--show-defaults", "--show-sources", "--show-secrets")
    assert "BATON_SERVER_API_PORT='4200' (from default)" in result.stdout
    assert "BATON_LOGGING_LEVEL='WARNING' (from profile)" in result.stdout
    assert "baton:hunter2@db/baton" in result.stdout
    result = _baton(env, "config", "unset", "BATON_SERVER_API_PORT")
    assert result.returncode == 1
    assert "BATON_SERVER_API_PORT is not set in profile 'default'" in result.stderr


def test_set_rejects_unknown_names_and_bad_values_without_writing(tmp_path: Path) -> None:
    env = _environ(tmp_path)
    result = _baton(env, "config", "set", "BATON_API_ULR=http://x/api")
    assert result.returncode == 1
    assert "Did you mean: BATON_API_URL" in result.stderr
    assert "Traceback" not in result.stderr
    result = _baton(env, "config", "set", "BATON_API_URL=http://x/api", "BATON_SERVER_API_PORT=abc")
    assert result.returncode == 1
    assert "BATON_SERVER_API_PORT" in result.stderr and "integer" in result.stderr
    assert not (tmp_path / "profiles.toml").exists()


def test_validate_reports_a_bad_profile_value(tmp_path: Path) -> None:
    env = _environ(tmp_path)
    result = _baton(env, "config", "validate")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "Configuration is valid (profile 'default')."
    (tmp_path / "profiles.toml").write_text(
        'active = "default"\n[profiles.default]\n[profiles.other]\nBATON_API_DATABASE_ECHO = "sometimes"\n'
    )
    result = _baton(env, "config", "validate")
    assert result.returncode == 1
    assert "BATON_API_DATABASE_ECHO in profile 'other'" in result.stderr
    assert "true/false" in result.stderr
