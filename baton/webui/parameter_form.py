"""The fields of a deployment's "Run" form, read from its parameter schema (Prefect's `parameter_openapi_schema`).

Each property becomes one input: text, number, whole number, a checkbox, a choice list for an enum, or a JSON
textarea for objects, arrays and anything more involved (unions, nested models). Values shown first are the
deployment's parameters, else the schema's defaults.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

STRING, NUMBER, INTEGER, BOOLEAN, ENUM, JSON = "string", "number", "integer", "boolean", "enum", "json"


@dataclass(frozen=True)
class ParameterField:
    name: str
    title: str
    kind: str
    required: bool
    # The value the input starts with, as the input's text ("" when none); for a checkbox, whether it is checked.
    value: str
    checked: bool = False
    choices: tuple[str, ...] = ()
    description: str = ""


def parameter_fields(schema: dict[str, Any] | None, values: dict[str, Any] | None) -> list[ParameterField]:
    """The form's fields in the schema's order (Prefect's `position` when given)."""
    schema = schema or {}
    values = values or {}
    properties = schema.get("properties") or {}
    required = set(schema.get("required") or [])
    names = sorted(properties, key=lambda name: (properties[name].get("position", 0), list(properties).index(name)))
    return [_field(name, properties[name], schema, name in required, values) for name in names]


def _resolve(prop: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """The property with a single `$ref` (bare or in a one-item allOf) and an Optional's `anyOf [X, null]` read
    through, keeping its own title, description and default."""
    resolved = dict(prop)
    for _ in range(5):
        inner: dict[str, Any] | None = None
        if "$ref" in resolved:
            inner = _lookup(resolved["$ref"], schema)
        elif len(resolved.get("allOf") or []) == 1:
            inner = resolved["allOf"][0]
        elif "anyOf" in resolved:
            options = [option for option in resolved["anyOf"] if option.get("type") != "null"]
            if len(options) == 1:
                inner = options[0]
        if inner is None:
            break
        merged = {key: value for key, value in resolved.items() if key not in ("$ref", "allOf", "anyOf")}
        resolved = {**inner, **merged}
    return resolved


def _lookup(reference: str, schema: dict[str, Any]) -> dict[str, Any] | None:
    if not reference.startswith("#/"):
        return None
    target: Any = schema
    for part in reference[2:].split("/"):
        if not isinstance(target, dict) or part not in target:
            return None
        target = target[part]
    return target if isinstance(target, dict) else None


def _field(
    name: str, prop: dict[str, Any], schema: dict[str, Any], required: bool, values: dict[str, Any]
) -> ParameterField:
    resolved = _resolve(prop, schema)
    has_value = name in values or "default" in resolved
    value = values[name] if name in values else resolved.get("default")
    title = str(resolved.get("title") or name)
    description = str(resolved.get("description") or "")
    kind = resolved.get("type")
    common: dict[str, Any] = {"name": name, "title": title, "required": required, "description": description}
    if "enum" in resolved and all(isinstance(choice, str) for choice in resolved["enum"]):
        choices = tuple(resolved["enum"])
        return ParameterField(
            kind=ENUM, value=str(value) if has_value and value is not None else "", choices=choices, **common
        )
    if kind == BOOLEAN:
        return ParameterField(kind=BOOLEAN, value="", checked=bool(value), **common)
    if kind in (STRING, NUMBER, INTEGER) and (value is None or not isinstance(value, dict | list)):
        text = "" if not has_value or value is None else str(value).lower() if isinstance(value, bool) else str(value)
        return ParameterField(kind=kind, value=text, **common)
    text = orjson.dumps(value, option=orjson.OPT_INDENT_2).decode() if has_value else ""
    return ParameterField(kind=JSON, value=text, **common)
