"""The Settings page: display preferences, the server's version and its settings with secrets hidden."""

from __future__ import annotations

from baton import API_SCHEMA_VERSION, PREFECT_COMPATIBLE_VERSION
from baton.settings import SETTING_NAMES
from baton.webui.base import PageHandler


class SettingsPageHandler(PageHandler):
    permission = "server:read"

    def get(self) -> None:
        settings = self.context.settings
        values = settings.display_values(show_secrets=False)
        rows = [
            (name, "" if value is None else str(value), settings.source_of(SETTING_NAMES[name]))
            for name, value in sorted(values.items())
        ]
        self.render_page(
            "settings.html",
            title="Settings",
            settings_rows=rows,
            prefect_version=PREFECT_COMPATIBLE_VERSION,
            api_version=API_SCHEMA_VERSION,
            database_kind=self.database.kind,
            queue_kind="Redis" if settings.redis_url else "in-process (embedded)",
            started_at=self.context.started_at,
        )


routes = [(r"/settings/?", SettingsPageHandler)]
