"""Secret fields of block documents: hidden in responses, and kept when an update posts the hidden value back.

A block schema lists its secret fields in `secret_fields` as dotted paths into the document's data: `"api_key"`,
`"child.password"` (a field of a nested object), `"secrets.*"` (every value under a key). The Prefect client
collects them from pydantic `SecretStr` / `Secret[...]` / `SecretDict` fields; the JSON schema also marks such fields
`"format": "password"` and `"writeOnly": true`, but `secret_fields` is what the server goes by.
"""

from __future__ import annotations

from typing import Any

# What a secret value looks like in a response (Prefect shows the same eight asterisks, whatever the value).
OBFUSCATED = "********"


def secret_paths(schema_fields: dict[str, Any]) -> list[list[str]]:
    """The schema's secret fields as lists of keys, e.g. `"secrets.*"` as `["secrets", "*"]`."""
    declared = schema_fields.get("secret_fields") or []
    return [path.split(".") for path in dict.fromkeys(declared) if isinstance(path, str) and path]


def obfuscate_secrets(data: dict[str, Any], schema_fields: dict[str, Any]) -> dict[str, Any]:
    """`data` with every secret value that is set replaced by `OBFUSCATED` (in place; returns `data`).

    A secret field holding an object is hidden as a whole, so no part of it shows.
    """
    for path in secret_paths(schema_fields):
        _obfuscate(data, path)
    return data


def restore_secrets(update: dict[str, Any], current: dict[str, Any], schema_fields: dict[str, Any]) -> dict[str, Any]:
    """`update` with each secret value that equals `OBFUSCATED` put back to its `current` value (in place).

    A client that reads a document without secrets and writes it back whole must not overwrite the stored secrets
    with asterisks.
    """
    for path in secret_paths(schema_fields):
        _restore(update, current, path)
    return update


def _obfuscate(node: Any, path: list[str]) -> None:
    if not isinstance(node, dict):
        return
    head, rest = path[0], path[1:]
    keys = list(node) if head == "*" else [head] if head in node else []
    for key in keys:
        if rest:
            _obfuscate(node[key], rest)
        elif node[key] is not None:
            node[key] = OBFUSCATED


def _restore(update: Any, current: Any, path: list[str]) -> None:
    if not isinstance(update, dict) or not isinstance(current, dict):
        return
    head, rest = path[0], path[1:]
    keys = list(update) if head == "*" else [head] if head in update else []
    for key in keys:
        if rest:
            _restore(update[key], current.get(key), rest)
        elif update[key] == OBFUSCATED and key in current:
            update[key] = current[key]
