"""Block schema checksums, computed the way the Prefect client computes them, so that both name a schema alike.

The client looks a schema up by the checksum of its own block class; when the server stored a different checksum
for the same fields, the client would register a duplicate schema on every save.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

CHECKSUM_PREFIX = "sha256:"
DEFINITION_REF_PREFIX = "#/definitions/"


def schema_checksum(fields: dict[str, Any]) -> str:
    """`sha256:<hex>` of `fields` without any `secret_fields` key and without the definitions of nested blocks."""
    trimmed = _without_key(fields, "secret_fields")
    if trimmed.get("definitions"):
        kept = non_block_definitions(trimmed, trimmed["definitions"])
        if kept:
            trimmed["definitions"] = kept
        else:
            del trimmed["definitions"]
    # The client hashes the JSON of `((fields,), {})` with sorted keys and the standard library's separators.
    text = json.dumps([[trimmed], {}], sort_keys=True)
    return CHECKSUM_PREFIX + hashlib.sha256(text.encode()).hexdigest()


def reference_strings(value: Any) -> list[str]:
    """Every `$ref` string found in `value`, at any depth, in document order."""
    found: list[str] = []
    if isinstance(value, dict):
        reference = value.get("$ref")
        if isinstance(reference, str):
            found.append(reference)
        for item in value.values():
            found.extend(reference_strings(item))
    elif isinstance(value, list):
        for item in value:
            found.extend(reference_strings(item))
    return found


def non_block_definitions(value: Any, definitions: dict[str, Any]) -> dict[str, Any]:
    """The entries of `definitions` that `value` refers to, directly or through other definitions, that are not
    nested blocks (a nested block's definition carries a `block_type_slug`)."""
    kept: dict[str, Any] = {}
    pending = reference_strings(value)
    while pending:
        key = pending.pop(0).removeprefix(DEFINITION_REF_PREFIX)
        definition = definitions.get(key)
        if key in kept or not isinstance(definition, dict) or not definition:
            continue
        if definition.get("block_type_slug") is not None:
            continue
        kept[key] = definition
        pending.extend(reference_strings(definition))
    return kept


def _without_key(value: Any, key: str) -> Any:
    # Only dictionaries are walked, not lists, exactly as the client does it.
    if not isinstance(value, dict):
        return value
    return {name: _without_key(item, key) for name, item in value.items() if name != key}
