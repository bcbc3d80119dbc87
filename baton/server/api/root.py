"""Health, readiness, versions, admin settings and the CSRF probe the Prefect client makes."""

from __future__ import annotations

from baton import API_SCHEMA_VERSION, PREFECT_COMPATIBLE_VERSION
from baton.errors import ServiceUnavailable
from baton.server.api.base import ApiHandler
from baton.server.api.openapi import endpoint
from baton.server.models import result_storage
from baton.server.permissions import PUBLIC
from baton.server.readiness import failed_checks
from baton.server.schemas.blocks import ServerDefaultResultStorage, ServerDefaultResultStorageUpdate


class HealthHandler(ApiHandler):
    permission = PUBLIC

    async def get(self) -> None:
        self.write_json(True)


class ReadyHandler(ApiHandler):
    """Ready: the database answers at the current schema, and Redis answers in Redis mode; else a 503 naming what
    failed."""

    permission = PUBLIC

    async def get(self) -> None:
        publisher = self.context.publisher
        failed = await failed_checks(self.database, publisher.broker if publisher is not None else None)
        if failed:
            reasons = "; ".join(f"{check}: {reason}" for check, reason in failed.items())
            raise ServiceUnavailable(f"Not ready. {reasons}.", retry_after_seconds=5)
        self.write_json({"message": "OK"})


class ApiVersionHandler(ApiHandler):
    permission = PUBLIC

    async def get(self) -> None:
        self.write_json(API_SCHEMA_VERSION)


class HelloHandler(ApiHandler):
    permission = PUBLIC

    async def get(self) -> None:
        self.write_json("\N{WAVING HAND SIGN}")


class ServerVersionHandler(ApiHandler):
    """The Prefect version Baton is compatible with: the client refuses a server of another major version."""

    permission = PUBLIC

    async def get(self) -> None:
        self.write_json(PREFECT_COMPATIBLE_VERSION)


class AdminSettingsHandler(ApiHandler):
    permission = "server:read"

    async def get(self) -> None:
        self.write_json(self.context.settings.display_values(show_secrets=False))


class AdminStorageHandler(ApiHandler):
    """The server-wide default result storage block, which flows and tasks that name none write their results to."""

    permission = {"GET": "server:read", "PUT": "server:write", "DELETE": "server:write"}

    @endpoint("The default result storage block (null: local files)", response=ServerDefaultResultStorage)
    async def get(self) -> None:
        async with self.database.read() as connection:
            configured = await result_storage.read_default_result_storage(connection)
        self.write_json(configured)

    @endpoint(
        "Make a block document with the `write-path` capability the default result storage",
        body=ServerDefaultResultStorageUpdate,
        response=ServerDefaultResultStorage,
    )
    async def put(self) -> None:
        update = self.parse_body(ServerDefaultResultStorageUpdate)
        async with self.database.write() as connection:
            configured = await result_storage.set_default_result_storage(
                connection, update.default_result_storage_block_id
            )
        self.write_json(configured)

    @endpoint("Clear the default result storage (back to local files)", status=204)
    async def delete(self) -> None:
        async with self.database.write() as connection:
            await result_storage.clear_default_result_storage(connection)
        self.write_no_content()


class CsrfTokenHandler(ApiHandler):
    permission = PUBLIC

    async def get(self) -> None:
        self.write_json({"detail": "CSRF protection is disabled."}, status=422)


routes = [
    (r"/health/?", HealthHandler),
    (r"/ready/?", ReadyHandler),
    (r"/version/?", ApiVersionHandler),
    (r"/hello/?", HelloHandler),
    (r"/admin/version/?", ServerVersionHandler),
    (r"/admin/settings/?", AdminSettingsHandler),
    (r"/admin/storage/?", AdminStorageHandler),
    (r"/csrf-token/?", CsrfTokenHandler),
]
