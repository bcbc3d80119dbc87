"""`/audit`: read the audit log (filter, count, export as JSON lines). No route changes or deletes an entry."""

from __future__ import annotations

from baton.server.api.base import ApiHandler
from baton.server.api.openapi import endpoint
from baton.server.database.types import utcnow
from baton.server.models.identity import audit
from baton.server.schemas.identity import AuditCondition, AuditEntry, AuditFilter

#: Entries read per database query while exporting.
EXPORT_PAGE = 500
EXPORT_QUERY = {
    name: f"Only entries whose {name.replace('_', ' ')} is this" for name in AuditCondition.model_fields
} | {
    "action_prefix": "Only entries whose action starts with this (e.g. 'user.')",
    "occurred_after": "Only entries at or after this time (ISO 8601)",
    "occurred_before": "Only entries at or before this time (ISO 8601)",
}


class AuditFilterHandler(ApiHandler):
    permission = "audit:read"

    @endpoint(
        "Audit entries matching a filter, newest first", body=AuditFilter, response=list[AuditEntry], optional_body=True
    )
    async def post(self) -> None:
        request = self.parse_body(AuditFilter, default_empty=True)
        limit = self.effective_limit(request.limit)
        await self.context.audit_log.flush()
        async with self.database.read() as connection:
            rows = await audit.read_audit_entries(
                connection, audit.audit_condition(**request.condition_values()), limit=limit, offset=request.offset
            )
        self.write_json([AuditEntry.model_validate(row) for row in rows])


class AuditCountHandler(ApiHandler):
    permission = "audit:read"

    @endpoint("How many audit entries match a filter", body=AuditCondition, response=int, optional_body=True)
    async def post(self) -> None:
        request = self.parse_body(AuditCondition, default_empty=True)
        await self.context.audit_log.flush()
        async with self.database.read() as connection:
            count = await audit.count_audit_entries(connection, audit.audit_condition(**request.condition_values()))
        self.write_json(count)


class AuditExportHandler(ApiHandler):
    permission = "audit:read"

    @endpoint("Every matching audit entry as JSON lines (application/x-ndjson), newest first", query=EXPORT_QUERY)
    async def get(self) -> None:
        arguments = {name: self.get_query_argument(name) for name in self.request.query_arguments}
        request = self.validate(AuditCondition, arguments)
        # Pinned, so that entries written while the export runs do not shift its pages.
        values = request.condition_values()
        values["occurred_before"] = min(values["occurred_before"] or utcnow(), utcnow())
        condition = audit.audit_condition(**values)
        await self.context.audit_log.flush()
        self.set_header("Content-Type", "application/x-ndjson")
        self.set_header("Content-Disposition", 'attachment; filename="baton-audit.jsonl"')
        offset = 0
        while True:
            async with self.database.read() as connection:
                rows = await audit.read_audit_entries(connection, condition, limit=EXPORT_PAGE, offset=offset)
            if rows:
                lines = (AuditEntry.model_validate(row).model_dump_json().encode() for row in rows)
                self.write(b"\n".join(lines) + b"\n")
                await self.flush()
            if len(rows) < EXPORT_PAGE:
                break
            offset += EXPORT_PAGE
        self.finish()


routes = [
    (r"/audit/filter/?", AuditFilterHandler),
    (r"/audit/count/?", AuditCountHandler),
    (r"/audit/export/?", AuditExportHandler),
]
