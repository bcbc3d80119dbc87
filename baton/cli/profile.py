"""`baton profile`: list, create, switch between, inspect, rename and delete profiles."""

from __future__ import annotations

import os

import click

from baton.profiles import ProfileStore
from baton.settings import PROFILE_VARIABLE, SETTING_NAMES, baton_home, mask_secret


def _store() -> ProfileStore:
    return ProfileStore(baton_home())


@click.group()
def profile() -> None:
    """Manage profiles: named groups of settings in BATON_HOME/profiles.toml, one of which is active."""


@profile.command("ls")
def list_() -> None:
    """List the profiles, marking the active one with '*'."""
    profiles = _store().load()
    active = profiles.selected(os.environ)
    for name in sorted(profiles.profiles):
        click.echo(f"{'* ' if name == active else '  '}{name}")


@profile.command()
@click.argument("name")
@click.option("--from", "copy_from", default=None, metavar="OTHER", help="Start with a copy of profile OTHER.")
def create(name: str, copy_from: str | None) -> None:
    """Create a profile, empty or copied from another."""
    _store().create(name, copy_from=copy_from)
    click.echo(f"Created profile {name!r}.")
    click.echo(f"Switch to it with: baton profile use {name}")


@profile.command()
@click.argument("name")
def use(name: str) -> None:
    """Make a profile the active one."""
    _store().use(name)
    click.echo(f"Switched to profile {name!r}.")
    selected = os.environ.get(PROFILE_VARIABLE)
    if selected and selected != name:
        click.echo(f"Warning: {PROFILE_VARIABLE}={selected} in the environment still selects {selected!r}.", err=True)


@profile.command()
@click.argument("name")
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation.")
def delete(name: str, yes: bool) -> None:
    """Delete a profile and its settings; the active profile cannot be deleted."""
    if not yes:
        click.confirm(f"Delete profile {name!r} and its settings?", abort=True)
    _store().delete(name)
    click.echo(f"Deleted profile {name!r}.")


@profile.command()
@click.argument("name", required=False)
def inspect(name: str | None) -> None:
    """Print the settings a profile holds (the active profile by default), with secrets masked."""
    profiles = _store().load()
    name = name or profiles.selected(os.environ)
    values = profiles.get(name, allow_missing_default=True)
    if not values:
        click.echo(f"Profile {name!r} is empty.")
    for key in sorted(values):
        field_name = SETTING_NAMES.get(key)
        text = str(values[key])
        click.echo(f"{key}='{mask_secret(field_name, text) if field_name else text}'")


@profile.command()
@click.argument("old")
@click.argument("new")
def rename(old: str, new: str) -> None:
    """Rename a profile; if it is active it stays active."""
    _store().rename(old, new)
    click.echo(f"Renamed profile {old!r} to {new!r}.")
