"""`/saved_searches`: create or replace by name (PUT), read, list, delete."""

from __future__ import annotations

from baton.errors import ObjectNotFound
from baton.server.api.base import ApiHandler
from baton.server.api.openapi import endpoint
from baton.server.models import saved_searches
from baton.server.schemas.saved_searches import SavedSearch, SavedSearchCreate, SavedSearchFilterRequest


class SavedSearchesHandler(ApiHandler):
    permission = "saved_search:write"

    @endpoint(
        "Save a named filter set; a search of that name has its filters replaced (200)",
        body=SavedSearchCreate,
        response=SavedSearch,
        status=201,
        upsert=True,
    )
    async def put(self) -> None:
        search = self.parse_body(SavedSearchCreate)
        async with self.database.write() as connection:
            row, created = await saved_searches.create_saved_search(connection, search)
        self.write_json(row, status=201 if created else 200)


class SavedSearchHandler(ApiHandler):
    permission = {"GET": "saved_search:read", "DELETE": "saved_search:write"}

    @endpoint("Read a saved search", response=SavedSearch)
    async def get(self, saved_search_id: str) -> None:
        async with self.database.read() as connection:
            row = await saved_searches.read_saved_search(connection, self.path_uuid(saved_search_id))
        if row is None:
            raise ObjectNotFound(f"Saved search {saved_search_id} does not exist.")
        self.write_json(row)

    @endpoint("Delete a saved search", status=204)
    async def delete(self, saved_search_id: str) -> None:
        async with self.database.write() as connection:
            found = await saved_searches.delete_saved_search(connection, self.path_uuid(saved_search_id))
        if not found:
            raise ObjectNotFound(f"Saved search {saved_search_id} does not exist.")
        self.write_no_content()


class SavedSearchFilterHandler(ApiHandler):
    permission = "saved_search:read"

    @endpoint("Saved searches by name", body=SavedSearchFilterRequest, response=list[SavedSearch], optional_body=True)
    async def post(self) -> None:
        request = self.parse_body(SavedSearchFilterRequest, default_empty=True)
        limit = self.effective_limit(request.limit)
        async with self.database.read() as connection:
            rows = await saved_searches.read_saved_searches(connection, limit, request.offset)
        self.write_json(rows)


routes = [
    (r"/saved_searches/?", SavedSearchesHandler),
    (r"/saved_searches/filter/?", SavedSearchFilterHandler),
    (r"/saved_searches/(?P<saved_search_id>[^/]+)/?", SavedSearchHandler),
]
