"""The OpenAPI document, built from the routes and the schemas each handler method declares with `@endpoint`."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pydantic
from pydantic.json_schema import models_json_schema

from baton import __version__

F = TypeVar("F", bound=Callable[..., Any])
HTTP_METHODS = ("get", "post", "put", "patch", "delete")
ERROR_RESPONSES = {
    "400": {"description": "Malformed JSON body"},
    "404": {"description": "Not found"},
    "409": {"description": "Conflict"},
    "414": {"description": "The URL is too long"},
    "422": {"description": "Invalid request: the body names each bad field and why"},
    "503": {"description": "Database busy or unreachable; retry after the Retry-After header"},
}
# Answered to a request with a body: too large, or not declared `application/json`.
BODY_RESPONSES = {
    "413": {"description": "The body is larger than the server's limit"},
    "415": {"description": "The body is not application/json"},
}


def _path_parameter(name: str) -> dict[str, Any]:
    """A path parameter: a UUID when its name says it is an id (`id`, `flow_run_id`, ...), else a string."""
    schema: dict[str, Any] = {"type": "string"}
    if name == "id" or name.endswith("_id"):
        schema["format"] = "uuid"
    return {"name": name, "in": "path", "required": True, "schema": schema}


@dataclass
class EndpointDoc:
    """What one handler method takes and returns, for the OpenAPI document."""

    summary: str
    body: Any = None
    response: Any = None
    status: int = 200
    tags: list[str] = field(default_factory=list)
    query: dict[str, str] = field(default_factory=dict)
    upsert: bool = False
    responses: dict[str, str] = field(default_factory=dict)
    optional_body: bool = False


def endpoint(
    summary: str,
    *,
    body: Any = None,
    response: Any = None,
    status: int = 200,
    query: dict[str, str] | None = None,
    upsert: bool = False,
    responses: dict[str, str] | None = None,
    optional_body: bool = False,
) -> Callable[[F], F]:
    """Declare a handler method's request body, response and status for the OpenAPI document; `upsert` for a
    create that answers 200 (instead of 201) when the object existed; `responses` for statuses beyond the common
    ones (status code -> description); `optional_body` when an empty body stands for `{}`."""

    def decorate(method: F) -> F:
        doc = EndpointDoc(summary, body, response, status, [], query or {}, upsert, responses or {}, optional_body)
        method._endpoint_doc = doc  # type: ignore[attr-defined]
        return method

    return decorate


def openapi_path(pattern: str) -> str:
    """Turn a route regex like `/api/flows/(?P<id>[^/]+)/?$` into `/api/flows/{id}`."""
    path = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", pattern)
    return path.replace("/?$", "").replace("$", "").replace("\\", "") or "/"


def _model_of(annotation: Any) -> type[pydantic.BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, pydantic.BaseModel):
        return annotation
    for argument in getattr(annotation, "__args__", ()):
        model = _model_of(argument)
        if model is not None:
            return model
    return None


def _schema_ref(annotation: Any, refs: dict[Any, Any]) -> dict[str, Any]:
    model = _model_of(annotation)
    if model is None:
        return pydantic.TypeAdapter(annotation).json_schema() if annotation is not None else {}
    reference = refs[(model, "validation")]
    if getattr(annotation, "__origin__", None) is list:
        return {"type": "array", "items": reference}
    return reference


def build_openapi(routes: Iterable[tuple[Any, ...]]) -> dict[str, Any]:
    """The OpenAPI 3.1 document for every documented handler method in `routes`."""
    documented: list[tuple[str, str, str, EndpointDoc]] = []
    for route in routes:
        pattern, handler = route[0], route[1]
        for method in HTTP_METHODS:
            doc = getattr(getattr(handler, method, None), "_endpoint_doc", None)
            if doc is not None:
                tag = handler.__module__.rsplit(".", 1)[-1]
                documented.append((openapi_path(pattern), method, tag, doc))
    models = {
        model
        for _, _, _, doc in documented
        for model in (_model_of(doc.body), _model_of(doc.response))
        if model is not None
    }
    refs, definitions = models_json_schema(
        [(model, "validation") for model in sorted(models, key=lambda m: m.__name__)],
        ref_template="#/components/schemas/{model}",
    )
    paths: dict[str, dict[str, Any]] = {}
    for path, method, tag, doc in documented:
        operation: dict[str, Any] = {"summary": doc.summary, "tags": [tag], "responses": dict(ERROR_RESPONSES)}
        parameters = [_path_parameter(name) for name in re.findall(r"{(\w+)}", path)]
        parameters += [
            {"name": name, "in": "query", "required": False, "schema": {"type": "string"}, "description": text}
            for name, text in doc.query.items()
        ]
        if parameters:
            operation["parameters"] = parameters
        if doc.body is not None:
            operation["requestBody"] = {
                "required": not doc.optional_body,
                "content": {"application/json": {"schema": _schema_ref(doc.body, refs)}},
            }
            operation["responses"].update(BODY_RESPONSES)
        success: dict[str, Any] = {"description": "Success"}
        if doc.response is not None:
            success["content"] = {"application/json": {"schema": _schema_ref(doc.response, refs)}}
        operation["responses"][str(doc.status)] = success
        for code, description in doc.responses.items():
            operation["responses"][code] = {"description": description}
        if doc.upsert:
            operation["responses"]["200" if doc.status == 201 else "201"] = success
        paths.setdefault(path, {})[method] = operation
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Baton",
            "version": __version__,
            "description": "Baton's REST API, compatible with the Prefect 3 server API.",
        },
        "paths": dict(sorted(paths.items())),
        "components": {"schemas": definitions.get("$defs", {})},
    }
