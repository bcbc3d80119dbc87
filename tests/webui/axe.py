"""axe-core for the accessibility test: installed from the npm registry on first use, then kept.

The tests need only `npm` and the registry: `npm install --prefix <dir> axe-core@<AXE_VERSION>` into
BATON_TEST_NODE_PREFIX (default .test-node/ at the repository root, ignored by git). The product never loads it.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

# Pinned so that a new rule in a later release cannot fail the suite without a change here.
AXE_VERSION = "4.14.1"
NODE_PREFIX = Path(os.environ.get("BATON_TEST_NODE_PREFIX", Path(__file__).parents[2] / ".test-node"))
INSTALL_TIMEOUT_SECONDS = 300
THEMES = ("light", "dark")
VIEWPORTS = ({"width": 1280, "height": 800}, {"width": 1920, "height": 1080})
FAILING_IMPACTS = {"serious", "critical"}


def axe_script(prefix: Path = NODE_PREFIX) -> str:
    """The text of axe.min.js at AXE_VERSION, installing it under `prefix` when it is missing or another version."""
    prefix.mkdir(parents=True, exist_ok=True)
    # Two test processes (pytest-xdist) may both find it missing: one installs while the other waits.
    with open(prefix / ".install-lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _installed_script(prefix)


def _installed_script(prefix: Path) -> str:
    package = prefix / "node_modules" / "axe-core"
    script = package / "axe.min.js"
    if not script.exists() or f'"version": "{AXE_VERSION}"' not in (package / "package.json").read_text():
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail("npm is not installed: the accessibility test installs axe-core with it (apt-get install npm)")
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


def _violations(page: Any) -> list[dict[str, Any]]:
    results = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [
        {
            "id": violation["id"],
            "impact": violation["impact"],
            "help": violation["help"],
            "nodes": [
                {"target": node["target"], "html": node["html"], "summary": node.get("failureSummary", "")}
                for node in violation["nodes"]
            ],
        }
        for violation in results["violations"]
    ]


def check_page(
    page: Any,
    script: str,
    results: list[dict[str, Any]],
    *,
    route: str,
    screenshots: Path | None = None,
    every_screenshot: bool = False,
) -> list[str]:
    """Run axe-core (`script`) on the loaded page in each theme (at the first viewport), check every viewport for
    sideways overflow; append every result to `results` and return one line per serious or critical violation and per
    viewport the page overflows sideways. A screenshot of each view that fails (of every view with `every_screenshot`)
    goes to `screenshots` when given."""
    page.evaluate(script)  # through the DevTools protocol, which the Content-Security-Policy does not govern
    path = page.url.split("/", 3)[-1]
    failures = []
    for theme in THEMES:
        page.evaluate(f"document.documentElement.setAttribute('data-theme', '{theme}')")
        for viewport in VIEWPORTS:
            page.set_viewport_size(viewport)
            # axe's rules look at markup, names and colours, which the window's size does not change: they run once per
            # theme, at the smaller size; every size is checked for sideways overflow (and photographed).
            violations = _violations(page) if viewport is VIEWPORTS[0] else []
            size = f"{viewport['width']}x{viewport['height']}"
            found = []
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            if overflow > 0:
                found.append(f"/{path} {theme} {size}: the page is {overflow} px wider than the window")
            results.append(
                {"route": route, "path": "/" + path, "theme": theme, "viewport": size, "violations": violations}
            )
            found += [
                f"/{path} {theme} {size}: {violation['impact']} {violation['id']} ({violation['help']}) at "
                + ", ".join(" ".join(node["target"]) for node in violation["nodes"][:5])
                for violation in violations
                if violation["impact"] in FAILING_IMPACTS
            ]
            if screenshots is not None and (found or every_screenshot):
                name = re.sub(r"[^A-Za-z0-9_.-]+", "_", path.split("?")[0]) or "dashboard"
                if "?" in path or not route.startswith("/"):
                    name += "-" + hashlib.sha1(f"{route} {path}".encode()).hexdigest()[:6]
                page.screenshot(path=str(screenshots / f"{name}-{theme}-{size}.jpeg"), type="jpeg", quality=60)
            failures += found
    page.set_viewport_size(VIEWPORTS[0])
    return failures


def write_results(name: str, results: list[dict[str, Any]], folder: Path) -> None:
    """axe-core's results as `<folder>/accessibility/<name>.json`, for reading after a failure."""
    (folder / "accessibility").mkdir(parents=True, exist_ok=True)
    text = json.dumps({"axe_version": AXE_VERSION, "pages": results}, indent=2)
    (folder / "accessibility" / f"{name}.json").write_text(text)
