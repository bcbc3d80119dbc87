"""The create/edit form of a block document, generated from its block schema's JSON schema.

Each top-level property becomes one input whose `kind` says how the page's script reads it: `text`, `password` (a
secret: never filled in, left blank to keep the stored value), `number`, `integer`, `boolean`, `select` (an enum;
option values are JSON) or `json` (objects, arrays, unions and untyped values, as a JSON textarea).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import orjson

from baton.server.blocks.secrets import secret_paths

_SCALAR_KINDS = {"string": "text", "integer": "integer", "number": "number", "boolean": "boolean"}


@dataclass(frozen=True)
class FormField:
    name: str
    title: str
    description: str | None
    kind: str
    required: bool = False
    nullable: bool = False
    #: JSON textareas: the JSON type the value must have ("object", "array"), when the schema says.
    json_type: str | None = None
    #: Select inputs: (JSON-encoded value, label).
    options: list[tuple[str, str]] = field(default_factory=list)
    #: Text inputs: values the schema suggests (offered in a datalist).
    suggestions: list[str] = field(default_factory=list)
    #: What the input starts with; always empty for a secret.
    value_text: str = ""
    checked: bool = False
    #: Edit forms: a secret value is stored (the input is blank and leaving it blank keeps it).
    secret_is_set: bool = False

    @property
    def placeholder(self) -> str:
        """A hint of the JSON a JSON textarea expects."""
        if self.json_type == "object":
            return 'a JSON object, e.g. {"key": "value"}'
        if self.json_type == "array":
            return 'a JSON list, e.g. ["a", "b"]'
        return 'a JSON value, e.g. "text", 42 or {"key": "value"}'


def form_fields(schema_fields: dict[str, Any], data: dict[str, Any] | None) -> list[FormField]:
    """The inputs for a document of this schema; `data` (with secrets hidden) fills them for an edit, else defaults.

    `data` must come from a read without `include_secrets`: the form never holds a secret value.
    """
    properties = schema_fields.get("properties") or {}
    definitions = schema_fields.get("definitions") or schema_fields.get("$defs") or {}
    required = set(schema_fields.get("required") or [])
    whole_secrets = {path[0] for path in secret_paths(schema_fields) if len(path) == 1}
    items = [(name, prop) for name, prop in properties.items() if isinstance(prop, dict)]
    # The Prefect client numbers the fields in class order; sorting is stable for schemas that do not.
    items.sort(key=lambda item: item[1]["position"] if isinstance(item[1].get("position"), int) else len(items))
    fields = []
    for name, prop in items:
        editing = data is not None
        value = data.get(name) if data is not None else prop.get("default")
        secret = name in whole_secrets or prop.get("format") == "password"
        fields.append(_field(name, prop, definitions, name in required, secret, value, editing))
    return fields


def _field(
    name: str,
    prop: dict[str, Any],
    definitions: dict[str, Any],
    required: bool,
    secret: bool,
    value: Any,
    editing: bool,
) -> FormField:
    title = str(prop.get("title") or name)
    description = prop.get("description")
    choices, nullable = _choices(prop, definitions)
    base = FormField(name=name, title=title, description=description, kind="json", required=required, nullable=nullable)
    if secret:
        return replace(base, kind="password", secret_is_set=editing and value is not None)
    if len(choices) == 1:
        only = choices[0]
        if "enum" in only:
            options = [(_json(option), str(option)) for option in only["enum"]]
            selected = _json(value) if value is not None else ""
            return replace(base, kind="select", options=options, value_text=selected)
        kind = _SCALAR_KINDS.get(str(only.get("type")))
        if kind == "boolean":
            return replace(base, kind="boolean", checked=bool(value))
        if kind is not None:
            return replace(base, kind=kind, value_text="" if value is None else str(value))
        json_type = only.get("type") if only.get("type") in ("object", "array") else None
        return replace(base, kind="json", json_type=json_type, value_text=_json_text(value))
    if choices and all(_is_text(choice) for choice in choices):
        suggestions = [str(option) for choice in choices for option in choice.get("enum", [])]
        text = "" if value is None else str(value)
        return replace(base, kind="text", suggestions=suggestions, value_text=text)
    return replace(base, kind="json", value_text=_json_text(value))


def _choices(prop: dict[str, Any], definitions: dict[str, Any]) -> tuple[list[dict[str, Any]], bool]:
    """The non-null alternatives of a property (references resolved), and whether null is allowed."""
    options = prop.get("anyOf") or prop.get("oneOf")
    if options is None and isinstance(prop.get("allOf"), list) and len(prop["allOf"]) == 1:
        options = prop["allOf"]
    if options is None:
        options = [prop]
    resolved = [_resolve(option, definitions) for option in options if isinstance(option, dict)]
    non_null = []
    nullable = False
    for option in resolved:
        kind = option.get("type")
        if kind == "null":
            nullable = True
        elif isinstance(kind, list):
            nullable = nullable or "null" in kind
            rest = [item for item in kind if item != "null"]
            non_null.append(
                {**option, "type": rest[0]} if len(rest) == 1 else {k: v for k, v in option.items() if k != "type"}
            )
        else:
            non_null.append(option)
    return non_null, nullable


def _resolve(option: dict[str, Any], definitions: dict[str, Any]) -> dict[str, Any]:
    reference = option.get("$ref")
    if not isinstance(reference, str):
        return option
    target = definitions.get(reference.rsplit("/", 1)[-1])
    return target if isinstance(target, dict) else {}


def _is_text(choice: dict[str, Any]) -> bool:
    if "enum" in choice:
        return all(isinstance(option, str) for option in choice["enum"])
    return choice.get("type") == "string"


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


def _json_text(value: Any) -> str:
    if value is None:
        return ""
    return orjson.dumps(value, option=orjson.OPT_INDENT_2).decode()


def field_values(schema_fields: dict[str, Any], data: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(name, title, value as text) for each field of a document, in form order, then any fields the schema lacks.

    `data` must have its secrets hidden already; they show as the server's `********`.
    """
    shown = []
    for item in form_fields(schema_fields, data):
        value = data.get(item.name)
        shown.append((item.name, item.title, _display(value)))
    known = {name for name, _, _ in shown}
    shown.extend((name, name, _display(value)) for name, value in data.items() if name not in known)
    return shown


def _display(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return _json_text(value)
