"""`ProcessGroup`: subprocesses a test starts with one environment, each with its own log file and in its own session,
so that a kill takes the processes it started with it."""

from __future__ import annotations

import os
import signal
import subprocess
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class ProcessGroup:
    env: dict[str, str]
    workdir: Path
    processes: list[tuple[subprocess.Popen[bytes], Path]] = field(default_factory=list, init=False)

    def launch(self, command: list[str], log_prefix: str) -> tuple[subprocess.Popen[bytes], Path]:
        """Start `command` with its output in `workdir/{log_prefix}-N.log`; the process and that log."""
        log = self.workdir / f"{log_prefix}-{len(self.processes)}.log"
        with log.open("wb") as output:
            process = subprocess.Popen(
                command,
                env=self.env,
                cwd=self.workdir,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.processes.append((process, log))
        return process, log

    def kill(self, process: subprocess.Popen[bytes]) -> None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
