"""The `baton` command: a click group that gathers the subcommands of each module in this package."""

from __future__ import annotations

import importlib
import sys

import click

from baton import __version__
from baton.errors import BatonError

# Each subcommand and where it lives: a module is imported when its command runs (or when help lists the commands),
# so that `baton variable ls` does not pay for importing the server, the worker and every other command.
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "artifact": ("baton.cli.artifacts", "artifact"),
    "audit": ("baton.cli.audit", "audit"),
    "automation": ("baton.cli.automations", "automation"),
    "block": ("baton.cli.blocks", "block"),
    "concurrency-limit": ("baton.cli.concurrency_limits", "concurrency_limit"),
    "config": ("baton.cli.config", "config"),
    "deployment": ("baton.cli.deployments", "deployment"),
    "flow-run": ("baton.cli.flow_runs", "flow_run"),
    "global-concurrency-limit": ("baton.cli.concurrency_limits", "global_concurrency_limit"),
    "login": ("baton.cli.login", "login"),
    "logout": ("baton.cli.login", "logout"),
    "profile": ("baton.cli.profile", "profile"),
    "role": ("baton.cli.roles", "role"),
    "server": ("baton.cli.server", "server"),
    "service-account": ("baton.cli.service_accounts", "service_account"),
    "user": ("baton.cli.users", "user"),
    "variable": ("baton.cli.variables", "variable"),
    "work-pool": ("baton.cli.work_pools", "work_pool"),
    "worker": ("baton.cli.worker", "worker"),
    "workspace": ("baton.cli.workspaces", "workspace"),
}


class BatonGroup(click.Group):
    """Loads each subcommand from `SUBCOMMANDS` on first use, and turns a BatonError raised by any command into a
    one-line message and exit code 1, never a traceback."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *SUBCOMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in SUBCOMMANDS and cmd_name not in self.commands:
            module_name, attribute = SUBCOMMANDS[cmd_name]
            command = getattr(importlib.import_module(module_name), attribute)
            self.add_command(command, cmd_name)
        return super().get_command(ctx, cmd_name)

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except BatonError as exc:
            click.secho(f"Error: {exc.message}", fg="red", err=True)
            sys.exit(1)


@click.group(cls=BatonGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="baton")
def cli() -> None:
    """Baton: a self-hosted workflow-orchestration server."""
