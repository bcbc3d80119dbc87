"""Automation actions: turn the selected automation, or the one the triggering event is about, off or on, as
`PATCH /automations/{id}` does (turning it off forgets its trigger state)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from baton.server.automations.actions.base import ActionContext, ActionFailed
from baton.server.models.automations.automations import set_automation_enabled
from baton.server.schemas.automations import PauseAutomation, ResumeAutomation

AUTOMATION_KIND = "prefect.automation"


async def _enable(
    connection: AsyncConnection, context: ActionContext, action: PauseAutomation | ResumeAutomation, enabled: bool
) -> None:
    automation_id = context.target_id(action.source, action.automation_id, AUTOMATION_KIND, "automation")
    context.target(f"{AUTOMATION_KIND}.{automation_id}")
    if not await set_automation_enabled(connection, automation_id, enabled):
        raise ActionFailed(f"Automation {automation_id} was not found")


async def pause_automation(connection: AsyncConnection, context: ActionContext, action: PauseAutomation) -> None:
    await _enable(connection, context, action, False)


async def resume_automation(connection: AsyncConnection, context: ActionContext, action: ResumeAutomation) -> None:
    await _enable(connection, context, action, True)
