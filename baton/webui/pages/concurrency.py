"""The Concurrency page: global limits and tag limits, their slots and holders; changes go through the JSON API."""

from __future__ import annotations

import datetime as dt
import urllib.parse
from typing import Any

from baton.server.models.views.concurrency_overview import read_limits_overview
from baton.webui.base import PageHandler

# Limits of each kind shown on the page; a server rarely has more than a few dozen.
PAGE_SIZE = 200
# Tag-limit (v1) leases last a century (v1 clients cannot renew); beyond this, a lease is shown as held until released.
UNBOUNDED_LEASE = dt.timedelta(days=3650)
HOLDER_KINDS = {"flow_run": "flow run", "task_run": "task run", "deployment": "deployment"}


def holder_link(holder: dict[str, Any], names: dict[Any, dict[str, Any]]) -> tuple[str | None, str]:
    """The page of a lease's holder and the text to show for it. A task run links to its flow run's page (task runs
    have none of their own); a holder that no longer exists is named by its kind and short id, without a link."""
    if holder["id"] is None or holder["type"] not in HOLDER_KINDS:
        return None, "anonymous lease"
    if holder["type"] == "deployment":
        return f"/deployments/deployment/{holder['id']}", f"deployment {str(holder['id'])[:8]}"
    found = names.get(holder["id"])
    if found is None:
        return None, f"{HOLDER_KINDS[holder['type']]} {str(holder['id'])[:8]}"
    href = f"/runs/flow-run/{found['flow_run_id']}" if found["flow_run_id"] else None
    return href, str(found["name"])


def is_unbounded(holder: dict[str, Any]) -> bool:
    return bool(holder["expires_at"] - dt.datetime.now(dt.UTC) > UNBOUNDED_LEASE)


class ConcurrencyPageHandler(PageHandler):
    permission = "concurrency_limit:read"

    async def get(self) -> None:
        async with self.database.read() as connection:
            overview = await read_limits_overview(connection, PAGE_SIZE)
        self.render_page(
            "concurrency.html",
            title="Concurrency",
            overview=overview,
            page_size=PAGE_SIZE,
            holder_link=lambda holder: holder_link(holder, overview.holder_names),
            is_unbounded=is_unbounded,
            path_segment=lambda value: urllib.parse.quote(value, safe=""),
        )


routes = [(r"/concurrency/?", ConcurrencyPageHandler)]
