"""`baton service-account`: accounts for machines (CI, workers, scripts), each holding an API key, directly on the
database."""

from __future__ import annotations

from typing import Any

import click

from baton.cli.local_database import on_database, parse_time, when
from baton.cli.output import echo_table
from baton.cli.resource_commands import yes_option
from baton.cli.users import ROLE_HELP


@click.group("service-account")
def service_account() -> None:
    """Manage service accounts, which call the API with an API key (BATON_API_KEY, PREFECT_API_KEY). These commands
    work directly on the database (BATON_API_DATABASE_CONNECTION_URL); each change is in the audit log under
    `local-cli`."""


def _show_key(name: str, key: str) -> None:
    click.echo(f"API key of service account {name!r} (shown only now; store it somewhere safe):")
    click.echo()
    click.echo(f"    {key}")
    click.echo()
    click.echo("Use it as BATON_API_KEY / PREFECT_API_KEY, or `baton login --key ...`.")


@service_account.command()
@click.argument("name")
@click.option("--role", required=True, help=ROLE_HELP)
@click.option("--expires-at", default=None, help="When its key stops working, ISO 8601 (default: never).")
def create(name: str, role: str, expires_at: str | None) -> None:
    """Create service account NAME with a role, and print its API key once."""
    from baton.server.auth import direct

    expiry = parse_time(expires_at, "--expires-at")
    row, key = on_database(lambda db: direct.create_service_account(db, name, role, expiry))
    click.echo(f"Created service account {row['name']!r} with the role {row['role']!r}.")
    _show_key(row["name"], key)


def _cells(row: dict[str, Any]) -> list[str]:
    live = [key for key in row["api_keys"] if key["revoked_at"] is None]
    used = [key["last_used_at"] for key in live if key["last_used_at"] is not None]
    return [
        row["name"],
        row["role"],
        "disabled" if row["disabled"] else "enabled",
        ", ".join(f"{key['prefix']}..." for key in live) or "-",
        when(max(used) if used else None),
        when(row["expires_at"]),
    ]


@service_account.command("ls")
def list_() -> None:
    """List service accounts with their role, status, live keys (by prefix), last use and expiry."""
    from baton.server.auth import direct

    rows = on_database(lambda db: direct.read_accounts(db, "service_account"))
    headers = ["NAME", "ROLE", "STATUS", "KEYS", "LAST USED (UTC)", "EXPIRES (UTC)"]
    echo_table(headers, [_cells(row) for row in rows], empty="No service accounts.")


@service_account.command("rotate-key")
@click.argument("name")
def rotate_key(name: str) -> None:
    """Revoke every key of service account NAME and print a new one once (the old ones stop working at once)."""
    from baton.server.auth import direct

    _, key = on_database(lambda db: direct.rotate_key(db, name))
    click.echo(f"Revoked the keys of service account {name!r}.")
    _show_key(name, key)


@service_account.command()
@click.argument("name")
def disable(name: str) -> None:
    """Disable service account NAME: its keys stop working at once."""
    from baton.server.auth import direct

    on_database(lambda db: direct.set_disabled(db, "service_account", name, True))
    click.echo(f"Disabled service account {name!r}.")


@service_account.command()
@click.argument("name")
def enable(name: str) -> None:
    """Enable service account NAME again."""
    from baton.server.auth import direct

    on_database(lambda db: direct.set_disabled(db, "service_account", name, False))
    click.echo(f"Enabled service account {name!r}.")


@service_account.command()
@click.argument("name")
@yes_option
def delete(name: str, yes: bool) -> None:
    """Delete service account NAME and its keys."""
    from baton.server.auth import direct

    if not yes:
        click.confirm(f"Delete service account {name!r}?", abort=True)
    on_database(lambda db: direct.delete_account(db, "service_account", name))
    click.echo(f"Deleted service account {name!r}.")
