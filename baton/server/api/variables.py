"""`/variables`: create, read, update and delete by id or by name, filter, count."""

from __future__ import annotations

from baton.errors import ObjectNotFound
from baton.server.api.base import ApiHandler
from baton.server.api.openapi import endpoint
from baton.server.models import variables
from baton.server.schemas.variables import Variable, VariableCreate, VariableFilterRequest, VariableUpdate


class VariablesHandler(ApiHandler):
    permission = "variable:write"

    @endpoint("Create a variable (409 if the name is taken)", body=VariableCreate, response=Variable, status=201)
    async def post(self) -> None:
        variable = self.parse_body(VariableCreate)
        async with self.database.write() as connection:
            row = await variables.create_variable(connection, variable)
        self.write_json(row, status=201)


class VariableHandler(ApiHandler):
    permission = {"GET": "variable:read", "PATCH": "variable:write", "DELETE": "variable:write"}

    @endpoint("Read a variable", response=Variable)
    async def get(self, variable_id: str) -> None:
        async with self.database.read() as connection:
            row = await variables.read_variable(connection, self.path_uuid(variable_id))
        if row is None:
            raise ObjectNotFound(f"Variable {variable_id} does not exist.")
        self.write_json(row)

    @endpoint("Update a variable's name, value or tags", body=VariableUpdate, status=204)
    async def patch(self, variable_id: str) -> None:
        target = self.path_uuid(variable_id)
        update = self.parse_body(VariableUpdate)
        async with self.database.write() as connection:
            found = await variables.update_variable(connection, target, update)
        if not found:
            raise ObjectNotFound(f"Variable {variable_id} does not exist.")
        self.write_no_content()

    @endpoint("Delete a variable", status=204)
    async def delete(self, variable_id: str) -> None:
        target = self.path_uuid(variable_id)
        async with self.database.write() as connection:
            found = await variables.delete_variable(connection, target)
        if not found:
            raise ObjectNotFound(f"Variable {variable_id} does not exist.")
        self.write_no_content()


class VariableByNameHandler(ApiHandler):
    permission = {"GET": "variable:read", "PATCH": "variable:write", "DELETE": "variable:write"}

    @endpoint("Read a variable by its name", response=Variable)
    async def get(self, name: str) -> None:
        async with self.database.read() as connection:
            row = await variables.read_variable_by_name(connection, name)
        if row is None:
            raise ObjectNotFound(f"No variable is named {name!r}.")
        self.write_json(row)

    @endpoint("Update the variable of that name", body=VariableUpdate, status=204)
    async def patch(self, name: str) -> None:
        update = self.parse_body(VariableUpdate)
        async with self.database.write() as connection:
            found = await variables.update_variable_by_name(connection, name, update)
        if not found:
            raise ObjectNotFound(f"No variable is named {name!r}.")
        self.write_no_content()

    @endpoint("Delete the variable of that name", status=204)
    async def delete(self, name: str) -> None:
        async with self.database.write() as connection:
            found = await variables.delete_variable_by_name(connection, name)
        if not found:
            raise ObjectNotFound(f"No variable is named {name!r}.")
        self.write_no_content()


class VariableFilterHandler(ApiHandler):
    permission = "variable:read"

    @endpoint("Variables matching a filter", body=VariableFilterRequest, response=list[Variable], optional_body=True)
    async def post(self) -> None:
        request = self.parse_body(VariableFilterRequest, default_empty=True)
        limit = self.effective_limit(request.limit)
        async with self.database.read() as connection:
            rows = await variables.filter_variables(connection, request, limit, request.offset)
        self.write_json(rows)


class VariableCountHandler(ApiHandler):
    permission = "variable:read"

    @endpoint("How many variables match a filter", body=VariableFilterRequest, response=int, optional_body=True)
    async def post(self) -> None:
        request = self.parse_body(VariableFilterRequest, default_empty=True)
        async with self.database.read() as connection:
            count = await variables.count_variables_matching(connection, request)
        self.write_json(count)


routes = [
    (r"/variables/?", VariablesHandler),
    (r"/variables/filter/?", VariableFilterHandler),
    (r"/variables/count/?", VariableCountHandler),
    (r"/variables/name/(?P<name>[^/]+)/?", VariableByNameHandler),
    (r"/variables/(?P<variable_id>[^/]+)/?", VariableHandler),
]
