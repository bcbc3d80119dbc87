"""`/concurrency_limits`: tag (v1) concurrency limits, a view of the global limits named `tag:<tag>`."""

from __future__ import annotations

from baton.errors import ObjectNotFound
from baton.server.api.base import ApiHandler
from baton.server.api.openapi import endpoint
from baton.server.models.concurrency import tag_limits
from baton.server.schemas.concurrency import (
    LimitFilterRequest,
    MinimalConcurrencyLimit,
    TagLimit,
    TagLimitCreate,
    TagLimitReset,
    TagSlotRequest,
)

NOT_FOUND = "Concurrency limit not found"


class TagLimitsHandler(ApiHandler):
    permission = "concurrency_limit:write"

    @endpoint(
        "Create or resize the limit of a tag (201 when created, 200 when it existed)",
        body=TagLimitCreate,
        response=TagLimit,
        upsert=True,
    )
    async def post(self) -> None:
        body = self.parse_body(TagLimitCreate)
        async with self.database.write() as connection:
            row, created = await tag_limits.upsert_tag_limit(connection, body.tag, body.concurrency_limit)
            view = await tag_limits.read_tag_limit(connection, row["id"])
        self.write_json(view, status=201 if created else 200)


class TagLimitHandler(ApiHandler):
    permission = {"GET": "concurrency_limit:read", "DELETE": "concurrency_limit:write"}

    @endpoint("Read a tag limit by id; active_slots lists the task runs holding a slot", response=TagLimit)
    async def get(self, limit_id: str) -> None:
        async with self.database.read() as connection:
            view = await tag_limits.read_tag_limit(connection, self.path_uuid(limit_id))
        if view is None:
            raise ObjectNotFound(NOT_FOUND)
        self.write_json(view)

    @endpoint("Delete a tag limit by id, releasing its slots", status=200)
    async def delete(self, limit_id: str) -> None:
        target = self.path_uuid(limit_id)
        async with self.database.write() as connection:
            found = await tag_limits.delete_tag_limit(connection, target)
        if not found:
            raise ObjectNotFound(NOT_FOUND)
        self.write_json(None)


class TagLimitByTagHandler(ApiHandler):
    permission = {"GET": "concurrency_limit:read", "DELETE": "concurrency_limit:write"}

    @endpoint("Read the limit of a tag", response=TagLimit)
    async def get(self, tag: str) -> None:
        async with self.database.read() as connection:
            view = await tag_limits.read_tag_limit(connection, tag)
        if view is None:
            raise ObjectNotFound(NOT_FOUND)
        self.write_json(view)

    @endpoint("Delete the limit of a tag, releasing its slots", status=200)
    async def delete(self, tag: str) -> None:
        async with self.database.write() as connection:
            found = await tag_limits.delete_tag_limit(connection, tag)
        if not found:
            raise ObjectNotFound(NOT_FOUND)
        self.write_json(None)


class TagLimitResetHandler(ApiHandler):
    permission = "concurrency_limit:write"

    @endpoint(
        "Release every slot of a tag's limit, then give one to each task run in slot_override",
        body=TagLimitReset,
        status=200,
        optional_body=True,
    )
    async def post(self, tag: str) -> None:
        body = self.parse_body(TagLimitReset, default_empty=True)
        async with self.database.write() as connection:
            found = await tag_limits.reset_tag_limit(connection, tag, body.slot_override)
        if not found:
            raise ObjectNotFound(NOT_FOUND)
        self.write_json(None)


class TagLimitFilterHandler(ApiHandler):
    permission = "concurrency_limit:read"

    @endpoint("A page of tag limits, by tag", body=LimitFilterRequest, response=list[TagLimit], optional_body=True)
    async def post(self) -> None:
        request = self.parse_body(LimitFilterRequest, default_empty=True)
        async with self.database.read() as connection:
            views = await tag_limits.read_tag_limits(connection, self.effective_limit(request.limit), request.offset)
        self.write_json(views)


class TagIncrementHandler(ApiHandler):
    permission = "concurrency_limit:use"

    @endpoint(
        "Take a slot of each tag's limit for a task run (423 when one is full)",
        body=TagSlotRequest,
        response=list[MinimalConcurrencyLimit],
    )
    async def post(self) -> None:
        body = self.parse_body(TagSlotRequest)
        async with self.database.write() as connection:
            taken = await tag_limits.take_tag_slots(connection, body.names, body.task_run_id)
        self.write_json(taken)


class TagDecrementHandler(ApiHandler):
    permission = "concurrency_limit:use"

    @endpoint(
        "Release a task run's slots of the tags' limits", body=TagSlotRequest, response=list[MinimalConcurrencyLimit]
    )
    async def post(self) -> None:
        body = self.parse_body(TagSlotRequest)
        async with self.database.write() as connection:
            released = await tag_limits.return_tag_slots(connection, body.names, body.task_run_id)
        self.write_json(released)


PREFIX = "/concurrency_limits"
routes = [
    (rf"{PREFIX}/?", TagLimitsHandler),
    (rf"{PREFIX}/filter/?", TagLimitFilterHandler),
    (rf"{PREFIX}/increment/?", TagIncrementHandler),
    (rf"{PREFIX}/decrement/?", TagDecrementHandler),
    (rf"{PREFIX}/tag/(?P<tag>[^/]+)/reset/?", TagLimitResetHandler),
    (rf"{PREFIX}/tag/(?P<tag>[^/]+)/?", TagLimitByTagHandler),
    (rf"{PREFIX}/(?P<limit_id>[^/]+)/?", TagLimitHandler),
]
