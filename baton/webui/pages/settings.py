"""The Settings page: display preferences, the server's version, how long each kind of data is kept, and its
settings with secrets hidden."""

from __future__ import annotations

from baton import API_SCHEMA_VERSION, PREFECT_COMPATIBLE_VERSION
from baton.server.models.retention import RETENTION_KINDS, retention_days
from baton.settings import SETTING_NAMES, Settings, env_name
from baton.webui.base import PageHandler


def retention_rows(settings: Settings) -> list[tuple[str, str, str]]:
    """(what is kept, for how long, the setting that says so) for each kind of data retention deletes."""
    days = retention_days(settings)
    return [
        (
            kind.description[0].upper() + kind.description[1:],
            "Kept forever" if days[kind.name] == 0 else f"{days[kind.name]} days",
            env_name(kind.setting),
        )
        for kind in RETENTION_KINDS
    ]


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
            retention_rows=retention_rows(settings),
            prefect_version=PREFECT_COMPATIBLE_VERSION,
            api_version=API_SCHEMA_VERSION,
            database_kind=self.database.kind,
            queue_kind="Redis" if settings.redis_url else "in-process (embedded)",
            started_at=self.context.started_at,
        )


routes = [(r"/settings/?", SettingsPageHandler)]
