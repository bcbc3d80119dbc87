"""`baton block`: list, inspect and delete block documents and list block types on the server at BATON_API_URL."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import click

from baton.cli.output import F, api_client, cell, timestamp
from baton.cli.resource_commands import id_and_times, inspect_command, ls_command, yes_option

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


def _block_cells(row: dict[str, Any]) -> list[str]:
    return [_label(row), row["block_type_name"], timestamp(row["updated"]), row["id"]]


def select_block(command: F) -> F:
    """The block a command acts on, as the `slug_name` argument or the `--id` option (`document_id`)."""
    command = click.option(
        "--id", "document_id", type=click.UUID, default=None, help="Select the block by its id instead."
    )(command)
    return click.argument("slug_name", metavar="[SLUG/NAME]", required=False)(command)


def _read_selected(client: BatonClient, slug_name: str | None, document_id: uuid.UUID | None) -> dict[str, Any]:
    if (slug_name is None) == (document_id is None):
        raise click.UsageError("Give either a block as SLUG/NAME or --id ID.")
    if document_id is not None:
        return client.read_block_document(str(document_id))
    assert slug_name is not None
    return client.read_block_document_by_name(*split_block_name(slug_name))


@ls_command(block, "blocks", ["BLOCK", "TYPE", "UPDATED (UTC)", "ID"], _block_cells)
def list_(client: BatonClient, limit: int) -> list[dict[str, Any]]:
    """List the named blocks, by type and name."""
    return client.read_block_documents(limit=limit)


def _block_fields(document: dict[str, Any]) -> list[tuple[str, Any]]:
    return [
        ("Block", _label(document)),
        ("Type", document["block_type_name"]),
        *id_and_times(document),
        ("Data", document["data"]),
    ]


@inspect_command(block, _block_fields)
@select_block
def inspect(client: BatonClient, slug_name: str | None, document_id: uuid.UUID | None) -> dict[str, Any]:
    """Print a block: its type, id, dates and data (secret fields show as ********)."""
    return _read_selected(client, slug_name, document_id)


@block.command()
@select_block
@yes_option
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


def _block_type_cells(row: dict[str, Any]) -> list[str]:
    return [row["slug"], row["name"], cell(row["description"])]


@ls_command(block_type, "block types", ["SLUG", "NAME", "DESCRIPTION"], _block_type_cells)
def list_types(client: BatonClient, limit: int) -> list[dict[str, Any]]:
    """List block types by name, with their slugs and descriptions."""
    return client.read_block_types(limit=limit)
