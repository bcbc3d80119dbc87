"""Runs official `prefect` CLI commands one after another in one process (prefect is imported once, ~2 s), as a user
would run them in a shell. Each argument is a JSON list: a command line, or `["watch-new-run", DEPLOYMENT]`, which
creates a run of the deployment with the Python client and runs `prefect flow-run watch ID` on it (so the watch is
listening before the run starts). After each command it prints `=== exit CODE` on a line of its own."""

from __future__ import annotations

import asyncio
import json
import sys

from prefect.cli import app
from prefect.client.orchestration import get_client


async def _new_run(deployment_name: str) -> str:
    async with get_client() as client:
        deployment = await client.read_deployment_by_name(deployment_name)
        return str((await client.create_flow_run_from_deployment(deployment.id)).id)


def main() -> None:
    for argument in sys.argv[1:]:
        command = json.loads(argument)
        if command[0] == "watch-new-run":
            command = ["flow-run", "watch", asyncio.run(_new_run(command[1]))]
        print(f"=== {' '.join(command)}", flush=True)
        sys.argv = ["prefect", *command]
        try:
            app()
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        print(f"=== exit {code}", flush=True)


if __name__ == "__main__":
    main()
