"""`baton config`: view, change and check settings in the active profile."""

from __future__ import annotations

import os
from typing import Any

import click

from baton.profiles import ProfileStore
from baton.settings import (
    SETTING_NAMES,
    baton_home,
    canonical_setting_name,
    env_name,
    load_settings,
    mask_secret,
    parse_assignment,
    validate_configuration,
)


@click.group()
def config() -> None:
    """View, change and check Baton's settings, which live in the active profile of BATON_HOME/profiles.toml."""


@config.command("set")
@click.argument("assignments", nargs=-1, required=True, metavar="NAME=VALUE...")
def set_(assignments: tuple[str, ...]) -> None:
    """Save settings in the active profile; every value is checked before any is written."""
    parsed = dict(parse_assignment(text) for text in assignments)
    store = ProfileStore(baton_home())
    profile = store.load().selected(os.environ)
    store.set_values(profile, parsed)
    for name, raw in parsed.items():
        click.echo(f"Set {name} to {mask_secret(SETTING_NAMES[name], raw)!r} in profile {profile!r}.")
        if name in os.environ:
            click.echo(f"Warning: {name} is also set in the environment, which overrides the profile.", err=True)


@config.command()
@click.argument("names", nargs=-1, required=True, metavar="NAME...")
def unset(names: tuple[str, ...]) -> None:
    """Remove settings from the active profile, so their defaults (or the environment) apply again."""
    env_names = [env_name(canonical_setting_name(name)) for name in names]
    store = ProfileStore(baton_home())
    profile = store.load().selected(os.environ)
    store.unset_values(profile, env_names)
    for name in env_names:
        click.echo(f"Unset {name} in profile {profile!r}.")


def _format(value: Any) -> str:
    if value is None:
        return " (not set)"
    if isinstance(value, bool):
        return "='true'" if value else "='false'"
    return f"='{value}'"


@config.command()
@click.option("--show-defaults/--hide-defaults", default=False, help="Also list settings left at their default.")
@click.option("--show-sources/--hide-sources", default=False, help="Say where each value comes from.")
@click.option("--show-secrets/--hide-secrets", default=False, help="Print secrets and URL passwords in clear.")
def view(show_defaults: bool, show_sources: bool, show_secrets: bool) -> None:
    """Print the active profile's name and the settings in effect, as NAME='value' lines."""
    settings = load_settings()
    click.echo(f"Profile: {settings.profile_name}")
    values = settings.display_values(show_secrets=show_secrets, include_defaults=show_defaults)
    for name in sorted(values):
        source = f" (from {settings.source_of(SETTING_NAMES[name])})" if show_sources else ""
        click.echo(f"{name}{_format(values[name])}{source}")


@config.command()
def validate() -> None:
    """Check every setting in the environment and in every profile, and report the first problem."""
    settings = validate_configuration()
    click.echo(f"Configuration is valid (profile {settings.profile_name!r}).")
