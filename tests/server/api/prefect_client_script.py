"""Runs a script of the official Prefect client against a test server in a subprocess, so that Prefect's global
settings and clients stay out of pytest."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any


def prefect_environment(base_url: str, tmp_path: Path) -> dict[str, str]:
    """The environment without PREFECT_/BATON_ variables, pointing the client at `base_url` with its own home."""
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("PREFECT_", "BATON_"))}
    environment.update(
        PREFECT_API_URL=f"{base_url}/api",
        PREFECT_HOME=str(tmp_path / "prefect"),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_LOGGING_LEVEL="WARNING",
    )
    return environment


async def run_prefect_client_script(script: str, base_url: str, tmp_path: Path, timeout_seconds: float) -> Any:
    """Run `script` to its end; the JSON on its last stdout line. A non-zero exit fails with its stderr."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        script,
        env=prefect_environment(base_url, tmp_path),
        cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout_seconds)
    assert process.returncode == 0, stderr.decode()[-4000:]
    return json.loads(stdout.decode().strip().splitlines()[-1])
