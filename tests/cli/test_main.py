"""The `baton` group loads each subcommand from its module on first use (baton/cli/main.py's SUBCOMMANDS)."""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys

import click

import baton.cli
from baton.cli.main import SUBCOMMANDS, cli


def test_every_listed_subcommand_is_the_command_of_that_name() -> None:
    for name in SUBCOMMANDS:
        command = cli.get_command(click.Context(cli), name)
        assert isinstance(command, click.Command), name
        assert command.name == name


def test_every_top_level_command_in_the_package_is_listed() -> None:
    """A command defined under baton/cli/ that is no group's subcommand is one of `baton`'s: it must be listed."""
    commands: dict[int, click.Command] = {}
    for info in pkgutil.iter_modules(baton.cli.__path__):
        module = importlib.import_module(f"baton.cli.{info.name}")
        commands.update({id(value): value for value in vars(module).values() if isinstance(value, click.Command)})
    groups = [command for command in commands.values() if isinstance(command, click.Group) and command is not cli]
    nested = {id(sub) for group in groups for sub in group.commands.values()}
    top_level = {command.name for key, command in commands.items() if key not in nested and command is not cli}
    assert top_level == set(SUBCOMMANDS)


def test_a_subcommand_imports_only_its_own_module() -> None:
    check = (
        "import sys\n"
        "from baton.cli.main import cli\n"
        "try:\n"
        "    cli(['variable', '--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(sorted(m for m in ('baton.cli.server', 'baton.cli.worker', 'baton.server.app') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"
