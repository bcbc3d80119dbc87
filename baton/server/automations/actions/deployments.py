"""Deployment actions: run a deployment (a flow run keyed on the action run, so a second attempt finds the first
one's run), pause and resume its schedules."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from baton.actors.state_changes import state_change
from baton.errors import BatonError
from baton.queue import messages
from baton.server.automations.actions.base import ActionContext, ActionFailed
from baton.server.database.types import utcnow
from baton.server.models.deployments import deployments
from baton.server.models.deployments.deployment_runs import create_flow_run_from_deployment
from baton.server.schemas.automations import PauseDeployment, ResumeDeployment, RunDeployment
from baton.server.schemas.deployments import DeploymentFlowRunCreate
from baton.server.schemas.states import StateCreate, StateDetails
from baton.states import StateType

DEPLOYMENT_KIND = "prefect.deployment"


def deployment_id_of(context: ActionContext, action: RunDeployment | PauseDeployment | ResumeDeployment) -> uuid.UUID:
    """The selected deployment, or the one the triggering event involves."""
    return context.target_id(action.source, action.deployment_id, DEPLOYMENT_KIND, "deployment")


async def _deployment(connection: AsyncConnection, context: ActionContext, deployment_id: uuid.UUID) -> dict[str, Any]:
    context.target(f"{DEPLOYMENT_KIND}.{deployment_id}")
    found = await deployments.read_deployment(connection, deployment_id)
    if found is None:
        raise ActionFailed(f"Deployment {deployment_id} was not found")
    return found


def idempotency_key(context: ActionContext) -> str:
    """The flow run's idempotency key: the action run's id, so that running the action again returns its run."""
    return f"automation {context.automation_id}, action run {context.run['id']}"


async def run_deployment(connection: AsyncConnection, context: ActionContext, action: RunDeployment) -> None:
    deployment = await _deployment(connection, context, deployment_id_of(context, action))
    parameters = await context.renderer.render_value(connection, action.parameters or {})
    job_variables = (
        await context.renderer.render_value(connection, action.job_variables) if action.job_variables else None
    )
    scheduled = utcnow() + action.schedule_after
    try:
        request = DeploymentFlowRunCreate(
            state=StateCreate(type=StateType.SCHEDULED, state_details=StateDetails(scheduled_time=scheduled)),
            parameters=parameters,
            job_variables=job_variables,
            idempotency_key=idempotency_key(context),
        )
    except ValueError as exc:
        raise ActionFailed(f"Unable to create flow run from deployment: {exc}") from exc
    try:
        run, outcome = await create_flow_run_from_deployment(connection, deployment, request)
    except BatonError as exc:
        context.details["validation_error"] = getattr(exc, "detail", None)
        raise ActionFailed(f"Unable to create flow run from deployment {deployment['id']}: {exc}") from exc
    context.resulting_resource = f"prefect.flow-run.{run['id']}"
    context.target(context.resulting_resource, role="flow-run", name=run["name"])
    change = state_change(run["id"], outcome)
    if change is not None:
        context.state_changes.append(change)


async def _set_paused(
    connection: AsyncConnection, context: ActionContext, deployment_id: uuid.UUID, paused: bool
) -> None:
    await _deployment(connection, context, deployment_id)
    await deployments.set_paused(connection, deployment_id, paused)
    if not paused:
        # As the API's resume does: the scheduler looks at the deployment now, not at its next sweep.
        context.messages.append(messages.schedule_deployments([str(deployment_id)]))


async def pause_deployment(connection: AsyncConnection, context: ActionContext, action: PauseDeployment) -> None:
    await _set_paused(connection, context, deployment_id_of(context, action), True)


async def resume_deployment(connection: AsyncConnection, context: ActionContext, action: ResumeDeployment) -> None:
    await _set_paused(connection, context, deployment_id_of(context, action), False)


__all__ = ["pause_deployment", "resume_deployment", "run_deployment"]
