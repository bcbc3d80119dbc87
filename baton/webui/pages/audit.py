"""The Audit log page: entries newest first, filtered by actor, action, resource kind and time range, a page at a
time, with a link that exports the same selection as JSON lines (/api/audit/export)."""

from __future__ import annotations

import datetime as dt
import urllib.parse

from baton.errors import ValidationFailed
from baton.server.models.identity import audit
from baton.server.permissions import RESOURCES
from baton.webui.base import PageHandler
from baton.webui.pagination import Pager

PAGE_SIZE = 50
#: The query arguments of the page, in the order the filter form shows them.
FILTERS = ("actor_name", "action_prefix", "resource_kind", "outcome", "occurred_after", "occurred_before")
OUTCOMES = ("success", "failure", "denied")
#: Kinds the audit log names besides the permission catalogue's resources.
EXTRA_RESOURCE_KINDS = ("api_key",)


def parse_time(name: str, raw: str) -> dt.datetime | None:
    """A time from the form (`2026-12-07T06:30`, UTC unless it names its offset); None when empty."""
    if not raw:
        return None
    try:
        value = dt.datetime.fromisoformat(raw)
    except ValueError as exc:
        raise ValidationFailed(f"{name} must be a date and time like 2026-12-07T06:30, not {raw!r}.") from exc
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


class AuditPageHandler(PageHandler):
    permission = "audit:read"

    async def get(self) -> None:
        values = {name: self.get_query_argument(name, "").strip() for name in FILTERS}
        number = self.query_int("page", 1, minimum=1)
        condition = audit.audit_condition(
            actor_name=values["actor_name"] or None,
            action_prefix=values["action_prefix"] or None,
            resource_kind=values["resource_kind"] or None,
            outcome=values["outcome"] or None,
            occurred_after=parse_time("From", values["occurred_after"]),
            occurred_before=parse_time("Until", values["occurred_before"]),
        )
        # Entries of requests that just finished may still be queued in this process.
        await self.context.audit_log.flush()
        query = tuple((name, value) for name, value in values.items())
        async with self.database.read() as connection:
            total = await audit.count_audit_entries(connection, condition)
            pager = Pager(number, PAGE_SIZE, total, "/audit", query)
            entries = await audit.read_audit_entries(connection, condition, limit=PAGE_SIZE, offset=pager.offset)
        chosen = [(name, value) for name, value in query if value]
        self.render_page(
            "audit.html",
            title="Audit log",
            entries=entries,
            pager=pager,
            filters=values,
            filtered=bool(chosen),
            export_url="/api/audit/export" + ("?" + urllib.parse.urlencode(chosen) if chosen else ""),
            resource_kinds=sorted({*RESOURCES, *EXTRA_RESOURCE_KINDS}),
            outcomes=OUTCOMES,
        )


routes = [(r"/audit/?", AuditPageHandler)]
