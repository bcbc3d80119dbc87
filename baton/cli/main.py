"""The `baton` command: a click group that gathers the subcommands of each module in this package."""

from __future__ import annotations

import sys

import click

from baton import __version__
from baton.errors import BatonError


class BatonGroup(click.Group):
    """Turns a BatonError raised by any command into a one-line message and exit code 1, never a traceback."""

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


def _register() -> None:
    from baton.cli.artifacts import artifact
    from baton.cli.audit import audit
    from baton.cli.automations import automation
    from baton.cli.blocks import block
    from baton.cli.concurrency_limits import concurrency_limit, global_concurrency_limit
    from baton.cli.config import config
    from baton.cli.deployments import deployment
    from baton.cli.flow_runs import flow_run
    from baton.cli.login import login, logout
    from baton.cli.profile import profile
    from baton.cli.roles import role
    from baton.cli.server import server
    from baton.cli.service_accounts import service_account
    from baton.cli.users import user
    from baton.cli.variables import variable
    from baton.cli.work_pools import work_pool
    from baton.cli.worker import worker
    from baton.cli.workspaces import workspace

    cli.add_command(artifact)
    cli.add_command(audit)
    cli.add_command(automation)
    cli.add_command(block)
    cli.add_command(concurrency_limit)
    cli.add_command(global_concurrency_limit)
    cli.add_command(config)
    cli.add_command(deployment)
    cli.add_command(flow_run)
    cli.add_command(login)
    cli.add_command(logout)
    cli.add_command(profile)
    cli.add_command(role)
    cli.add_command(server)
    cli.add_command(service_account)
    cli.add_command(user)
    cli.add_command(variable)
    cli.add_command(work_pool)
    cli.add_command(worker)
    cli.add_command(workspace)


_register()
