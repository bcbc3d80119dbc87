"""`baton block`: list, inspect and delete block documents and list block types on the server at BATON_API_URL."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import click

from baton.cli.output import (
    api_client,
    cell,
    echo_fields,
    echo_json,
    echo_more_hint,
    echo_table,
    json_option,
    limit_option,
    timestamp,
)

if TYPE_CHECKING:
    from baton.client import BatonClient


@click.group()
def block() -> None:
    """Inspect and delete blocks: typed, named configuration (credentials, webhooks) whose secrets are encrypted.

    A block is named SLUG/NAME, its block type's slug and its own name, e.g. secret/db-password.
    """


def split_block_name(text: str) -> tuple[str, str]:
    """(slug, name) from 'SLUG/NAME'; click.BadParameter (exit code 2) for anything else."""
    slug, separator, name = text.partition("/")
    if not separator or not slug or not name:
        raise click.BadParameter(f"expected SLUG/NAME, e.g. secret/db-password, got {text!r}", param_hint="SLUG/NAME")
    return slug, name


def _label(document: dict[str, Any]) -> str:
    return f"{document['block_type']['slug']}/{document['name']}"


def _read_selected(client: BatonClient, slug_name: str | None, document_id: uuid.UUID | None) -> dict[str, Any]:
    if (slug_name is None) == (document_id is None):
        raise click.UsageError("Give either a block as SLUG/NAME or --id ID.")
    if document_id is not None:
        return client.read_block_document(str(document_id))
    assert slug_name is not None
    return client.read_block_document_by_name(*split_block_name(slug_name))


@block.command("ls")
@limit_option("blocks")
@json_option
def list_(limit: int, as_json: bool) -> None:
    """List the named blocks, by type and name."""
    with api_client() as client:
        rows = client.read_block_documents(limit=limit)
    if as_json:
        echo_json(rows)
        return
    table = [[_label(row), row["block_type_name"], timestamp(row["updated"]), row["id"]] for row in rows]
    echo_table(["BLOCK", "TYPE", "UPDATED (UTC)", "ID"], table, empty="No blocks.")
    echo_more_hint(len(rows), limit, "blocks")


@block.command()
@click.argument("slug_name", metavar="[SLUG/NAME]", required=False)
@click.option("--id", "document_id", type=click.UUID, default=None, help="Select the block by its id instead.")
@json_option
def inspect(slug_name: str | None, document_id: uuid.UUID | None, as_json: bool) -> None:
    """Print a block: its type, id, dates and data (secret fields show as ********)."""
    with api_client() as client:
        document = _read_selected(client, slug_name, document_id)
    if as_json:
        echo_json(document)
        return
    echo_fields(
        [
            ("Block", _label(document)),
            ("Type", document["block_type_name"]),
            ("ID", document["id"]),
            ("Created (UTC)", timestamp(document["created"])),
            ("Updated (UTC)", timestamp(document["updated"])),
            ("Data", document["data"]),
        ]
    )


@block.command()
@click.argument("slug_name", metavar="[SLUG/NAME]", required=False)
@click.option("--id", "document_id", type=click.UUID, default=None, help="Select the block by its id instead.")
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation.")
def delete(slug_name: str | None, document_id: uuid.UUID | None, yes: bool) -> None:
    """Delete a block; flows that load it by name will no longer find it."""
    with api_client() as client:
        document = _read_selected(client, slug_name, document_id)
        label = _label(document)
        if not yes:
            click.confirm(f"Delete block {label!r} ({document['id']})?", abort=True)
        client.delete_block_document(document["id"])
    click.echo(f"Deleted block {label!r}.")


@block.group("type")
def block_type() -> None:
    """List block types: the kinds of block the server knows (its built-in ones and those clients registered)."""


@block_type.command("ls")
@limit_option("block types")
@json_option
def list_types(limit: int, as_json: bool) -> None:
    """List block types by name, with their slugs and descriptions."""
    with api_client() as client:
        rows = client.read_block_types(limit=limit)
    if as_json:
        echo_json(rows)
        return
    table = [[row["slug"], row["name"], cell(row["description"])] for row in rows]
    echo_table(["SLUG", "NAME", "DESCRIPTION"], table, empty="No block types.")
    echo_more_hint(len(rows), limit, "block types")
