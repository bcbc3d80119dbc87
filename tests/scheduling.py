"""The order test files run in: the longest first, so that the xdist workers end together.

Under `--dist loadfile` a worker takes the next file whenever it is nearly out of tests, so the run lasts as long as
its busier worker; xdist's own order (most tests first) left the few-test but slow files (a server and a browser, or
a fuzz run, per file) for the end, where one of them kept a worker busy while the others idled. Longest first (the
classic LPT rule) ends the run on short files instead. Seconds per file come from tests/durations.json, measured
on a whole-suite run; a file it does not know (a new one) is estimated from its number of tests and the seconds per
test of its folder. The order never changes what a test does, only when it runs.

Refresh the durations after adding slow tests: `python -m tests.scheduling report.xml` with a JUnit XML report of a
whole-suite run (`bash scripts/test --junitxml=report.xml`).
"""

from __future__ import annotations

import collections
import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path, PurePosixPath

import pytest

DURATIONS = Path(__file__).with_name("durations.json")


def _module(nodeid: str) -> str:
    return nodeid.split("::", 1)[0]


def _folder_rates(seconds: dict[str, float], counts: dict[str, int]) -> dict[str, float]:
    """Seconds per test of each folder in the durations (whole-suite average under the key "")."""
    totals: dict[str, list[float]] = collections.defaultdict(lambda: [0.0, 0.0])
    for module, spent in seconds.items():
        tests = counts.get(module, 1)
        for folder in ("", str(PurePosixPath(module).parent)):
            totals[folder][0] += spent
            totals[folder][1] += tests
    return {folder: spent / max(tests, 1) for folder, (spent, tests) in totals.items()}


def estimated_seconds(modules: dict[str, int]) -> dict[str, float]:
    """Each module's expected seconds (`modules`: module path -> number of its tests collected now)."""
    known = json.loads(DURATIONS.read_text()) if DURATIONS.exists() else {"seconds": {}, "tests": {}}
    seconds, counts = known["seconds"], known["tests"]
    rates = _folder_rates(seconds, counts)
    estimates = {}
    for module, tests in modules.items():
        if module in seconds:
            # Scaled by the number of tests now, so that a database disabled (BATON_TEST_DATABASES) or a test added
            # moves the estimate.
            estimates[module] = seconds[module] * tests / max(counts.get(module, tests), 1)
        else:
            rate = rates.get(str(PurePosixPath(module).parent), rates.get("", 1.0))
            estimates[module] = rate * tests
    return estimates


def order_longest_first(items: list[pytest.Item]) -> None:
    """Reorder `items` in place: whole modules, longest first; the tests of a module keep their order."""
    counts = collections.Counter(_module(item.nodeid) for item in items)
    seconds = estimated_seconds(dict(counts))
    first_seen = {module: index for index, module in enumerate(dict.fromkeys(_module(item.nodeid) for item in items))}
    items.sort(key=lambda item: (-seconds[_module(item.nodeid)], first_seen[_module(item.nodeid)]))


def durations_from_junit(report: Path) -> dict[str, dict[str, float]]:
    """Seconds (setup, call and teardown) and number of tests per module, from a JUnit XML report."""
    seconds: collections.Counter[str] = collections.Counter()
    tests: collections.Counter[str] = collections.Counter()
    for case in ET.parse(report).iter("testcase"):
        parts = case.get("classname", "").split(".")
        module_end = next((i for i, part in enumerate(parts) if part.startswith("test_")), None)
        if module_end is None:
            continue
        module = "/".join(parts[: module_end + 1]) + ".py"
        seconds[module] += float(case.get("time", 0))
        tests[module] += 1
    return {
        "seconds": {module: round(spent, 1) for module, spent in sorted(seconds.items())},
        "tests": dict(sorted(tests.items())),
    }


if __name__ == "__main__":
    DURATIONS.write_text(json.dumps(durations_from_junit(Path(sys.argv[1])), indent=1) + "\n")
