"""The Variables pages: a searchable list, and one form to create or edit a variable (saved through the JSON API)."""

from __future__ import annotations

import orjson

from baton.errors import ObjectNotFound
from baton.server.models import variables
from baton.server.schemas.variables import (
    MAX_VARIABLE_VALUE_LENGTH,
    VariableFilter,
    VariableFilterName,
    VariableFilterRequest,
    VariableSort,
)
from baton.webui.base import PageHandler
from baton.webui.formatting import pretty_json
from baton.webui.pagination import Pager

PAGE_SIZE = 50
# The list shows this much of each value's JSON.
PREVIEW_CHARACTERS = 80


def value_preview(value: object) -> str:
    """The value as compact JSON (so a string shows its quotes), cut to PREVIEW_CHARACTERS."""
    text = orjson.dumps(value).decode()
    return text if len(text) <= PREVIEW_CHARACTERS else text[: PREVIEW_CHARACTERS - 1] + "…"


class VariablesPageHandler(PageHandler):
    permission = "variable:read"

    async def get(self) -> None:
        search = self.get_query_argument("q", "").strip()
        number = self.query_int("page", 1, minimum=1)
        spec = VariableFilter(name=VariableFilterName(like_=search)) if search else None
        request = VariableFilterRequest(variables=spec, sort=VariableSort.NAME_ASC, limit=None, offset=0)
        async with self.database.read() as connection:
            total = await variables.count_variables_matching(connection, request)
            pager = Pager(number, PAGE_SIZE, total, "/variables", (("q", search),))
            rows = await variables.filter_variables(connection, request, PAGE_SIZE, pager.offset)
        self.render_page(
            "variables.html", title="Variables", variables=rows, pager=pager, search=search, value_preview=value_preview
        )


class NewVariablePageHandler(PageHandler):
    permission = "variable:write"

    def get(self) -> None:
        self.render_page(
            "variable_form.html", title="New variable", variable=None, value_text="", max_size=MAX_VARIABLE_VALUE_LENGTH
        )


class VariablePageHandler(PageHandler):
    permission = "variable:read"

    async def get(self, variable_id: str) -> None:
        target = self.path_uuid(variable_id, "variable")
        async with self.database.read() as connection:
            variable = await variables.read_variable(connection, target)
        if variable is None:
            raise ObjectNotFound(f"There is no variable with the id {variable_id}.")
        self.render_page(
            "variable_form.html",
            title=variable["name"],
            variable=variable,
            value_text=pretty_json(variable["value"]),
            max_size=MAX_VARIABLE_VALUE_LENGTH,
        )


routes = [
    (r"/variables/?", VariablesPageHandler),
    (r"/variables/new/?", NewVariablePageHandler),
    (r"/variables/(?P<variable_id>[^/]+)/?", VariablePageHandler),
]
