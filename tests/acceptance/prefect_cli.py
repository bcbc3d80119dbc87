"""Running the official `prefect` CLI as a user types it: many commands in one process (cli_commands.py), because
importing prefect costs about 2 s a process, and what each one did."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.acceptance.conftest import ApiServer, clean_environ

HELPER = Path(__file__).parent / "cli_commands.py"
# One process runs a group's commands: prefect's import, then about 0.1 to 1 s a command; pytest stops a test at
# 120 s, so a stuck group fails first, with its output.
GROUP_TIMEOUT_SECONDS = 100
# Wide enough that rich does not wrap names and messages in tables and panels.
TERMINAL_COLUMNS = "250"


@dataclass(frozen=True)
class Ran:
    """What one command did: its exit code and everything it printed."""

    args: list[str]
    exit_code: int | None
    output: str

    def ok(self, *texts: str) -> Ran:
        return self.exits(0, *texts)

    def fails(self, *texts: str) -> Ran:
        return self.exits(1, *texts)

    def exits(self, code: int, *texts: str) -> Ran:
        """Assert the exit code and that each text is in the output, in order."""
        shown = f"prefect {' '.join(self.args)} exited {self.exit_code}:\n{self.output}"
        assert self.exit_code == code, shown
        position = 0
        for text in texts:
            found = self.output.find(text, position)
            assert found >= 0, f"{text!r} not in the output (after position {position}) of {shown}"
            position = found + len(text)
        return self

    def json(self) -> Any:
        return json.loads(self.output)

    def lines_with(self, text: str) -> list[str]:
        return [line.strip() for line in self.output.splitlines() if text in line]


def run_cli(server: ApiServer, home: Path, steps: list[Any], cwd: Path | None = None, **settings: str) -> list[Ran]:
    """Run the steps (see cli_commands.py) in one process configured as a user's shell for `server`, with extra
    environment `settings` (a credential, say)."""
    env = clean_environ(
        PREFECT_API_URL=server.api_url,
        PREFECT_HOME=str(home / "prefect-home"),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_CLI_PROMPT="false",
        COLUMNS=TERMINAL_COLUMNS,
        **settings,
    )
    completed = subprocess.run(
        [sys.executable, str(HELPER)],
        input=json.dumps(steps),
        env=env,
        cwd=cwd or home,
        capture_output=True,
        text=True,
        timeout=GROUP_TIMEOUT_SECONDS,
    )
    assert completed.returncode == 0, f"stdout:\n{completed.stdout}\nstderr:\n{completed.stderr}"
    results = [Ran(**json.loads(line)) for line in completed.stdout.splitlines()]
    assert len(results) == len([step for step in steps if not (isinstance(step, dict) and "background" in step)])
    return results
