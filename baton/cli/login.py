"""`baton login` and `baton logout`: keep an API key in the active profile, where the CLI, the SDK and `baton worker
start` read it (BATON_API_KEY)."""

from __future__ import annotations

import os

import click

from baton.errors import BatonError, ProfileError
from baton.profiles import ProfileStore
from baton.settings import baton_home

API_KEY_SETTING = "BATON_API_KEY"


@click.command()
@click.option("--key", default=None, help="The API key (default: asked for, hidden). A user's or a service account's.")
def login(key: str | None) -> None:
    """Check an API key against the server at BATON_API_URL (GET /api/me) and store it in the active profile."""
    from baton.client.base import BaseClient

    key = (key or click.prompt("API key", hide_input=True)).strip()
    with BaseClient(api_key=key) as client:
        me = client.request("GET", "/me", global_route=True)
        api_url = client.api_url
    if not me.get("auth_enabled", True):
        raise BatonError(
            f"The server at {api_url} has authentication off, so it cannot tell whether the key is valid; "
            "nothing was stored."
        )
    store = ProfileStore(baton_home())
    profile = store.load().selected(os.environ)
    store.set_values(profile, {API_KEY_SETTING: key})
    kind = str(me["kind"]).replace("_", " ")
    click.echo(
        f"Signed in to {api_url} as {kind} {me['name']!r} (role {me['role']!r}); the key is stored in profile "
        f"{profile!r}."
    )
    if API_KEY_SETTING in os.environ:
        click.echo(f"Warning: {API_KEY_SETTING} is also set in the environment, which overrides the profile.", err=True)


@click.command()
def logout() -> None:
    """Remove the API key from the active profile."""
    store = ProfileStore(baton_home())
    profile = store.load().selected(os.environ)
    try:
        store.unset_values(profile, [API_KEY_SETTING])
    except ProfileError:
        click.echo(f"No API key is stored in profile {profile!r}.")
        return
    click.echo(f"Removed the API key from profile {profile!r}.")
