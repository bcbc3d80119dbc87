"""axe-core for the accessibility test: installed from the npm registry on first use, then kept.

The tests need only `npm` and the registry: `npm install --prefix <dir> axe-core@<AXE_VERSION>` into
BATON_TEST_NODE_PREFIX (default .test-node/ at the repository root, ignored by git). The product never loads it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

# Pinned so that a new rule in a later release cannot fail the suite without a change here.
AXE_VERSION = "4.14.1"
NODE_PREFIX = Path(os.environ.get("BATON_TEST_NODE_PREFIX", Path(__file__).parents[2] / ".test-node"))
INSTALL_TIMEOUT_SECONDS = 300


def axe_script(prefix: Path = NODE_PREFIX) -> str:
    """The text of axe.min.js at AXE_VERSION, installing it under `prefix` when it is missing or another version."""
    package = prefix / "node_modules" / "axe-core"
    script = package / "axe.min.js"
    if not script.exists() or f'"version": "{AXE_VERSION}"' not in (package / "package.json").read_text():
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail("npm is not installed: the accessibility test installs axe-core with it (apt-get install npm)")
        prefix.mkdir(parents=True, exist_ok=True)
        completed = subprocess.run(
            [
                npm,
                "install",
                "--prefix",
                str(prefix),
                "--no-save",
                "--no-audit",
                "--no-fund",
                f"axe-core@{AXE_VERSION}",
            ],
            capture_output=True,
            text=True,
            timeout=INSTALL_TIMEOUT_SECONDS,
        )
        if completed.returncode != 0 or not script.exists():
            pytest.fail(f"npm install axe-core@{AXE_VERSION} failed:\n{completed.stdout}\n{completed.stderr}")
    return script.read_text()
