"""Health, readiness, versions, admin settings and the CSRF probe the Prefect client makes."""

from __future__ import annotations

from baton import API_SCHEMA_VERSION, PREFECT_COMPATIBLE_VERSION
from baton.errors import ServiceUnavailable
from baton.server.api.base import ApiHandler


class HealthHandler(ApiHandler):
    async def get(self) -> None:
        self.write_json(True)


class ReadyHandler(ApiHandler):
    async def get(self) -> None:
        if not await self.database.is_reachable():
            raise ServiceUnavailable("The database is unreachable.", retry_after_seconds=5)
        self.write_json({"message": "OK"})


class ApiVersionHandler(ApiHandler):
    async def get(self) -> None:
        self.write_json(API_SCHEMA_VERSION)


class HelloHandler(ApiHandler):
    async def get(self) -> None:
        self.write_json("\N{WAVING HAND SIGN}")


class ServerVersionHandler(ApiHandler):
    """The Prefect version Baton is compatible with: the client refuses a server of another major version."""

    async def get(self) -> None:
        self.write_json(PREFECT_COMPATIBLE_VERSION)


class AdminSettingsHandler(ApiHandler):
    async def get(self) -> None:
        self.write_json(self.context.settings.display_values(show_secrets=False))


class AdminStorageHandler(ApiHandler):
    """The default result storage block; Baton has none configured, which the client treats as local storage."""

    async def get(self) -> None:
        self.write_json({"default_result_storage_block_id": None})


class CsrfTokenHandler(ApiHandler):
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
