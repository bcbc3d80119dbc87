"""Run several `prefect` CLI commands in this one process (importing prefect costs about 2 s each time) and print,
as one JSON line, each command's exit code and output.

    python prefect_cli_commands.py '[["task-run", "ls"], ["task-run", "inspect", "ID"]]'
"""

from __future__ import annotations

import json
import os
import sys
import tempfile

from prefect.cli import app


def run(args: list[str]) -> dict[str, object]:
    """Exit code and output (stdout and stderr together) of `prefect ARGS`, captured at the file descriptors."""
    saved = os.dup(1), os.dup(2)
    with tempfile.TemporaryFile() as output:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(output.fileno(), 1)
        os.dup2(output.fileno(), 2)
        sys.argv = ["prefect", *args]
        code: object = 0
        try:
            app()
        except SystemExit as exc:
            code = exc.code if exc.code is not None else 0
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
        output.seek(0)
        return {"args": args, "code": code, "output": output.read().decode(errors="replace")}


def main() -> None:
    commands: list[list[str]] = json.loads(sys.argv[1])
    results = [run(command) for command in commands]
    print(json.dumps(results))


if __name__ == "__main__":
    main()
