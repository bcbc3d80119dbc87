"""A flow that creates markdown (twice under one key), table (from a task), link and progress artifacts, then updates
the progress; its result maps each artifact to the id the client got back, plus the task run's id."""

from __future__ import annotations

import json
from typing import cast
from uuid import UUID

from prefect import flow, task
from prefect.artifacts import (
    create_link_artifact,
    create_markdown_artifact,
    create_progress_artifact,
    create_table_artifact,
    update_progress_artifact,
)
from prefect.runtime import task_run

TABLE = [{"city": "Lyon", "runs": 3, "ok": True}, {"city": "Oslo", "runs": 0, "ok": False}]


@task
def tabulate() -> dict[str, str]:
    artifact_id = create_table_artifact(table=TABLE, key="baton-table", description="Runs per city")
    return {"table": str(artifact_id), "task_run": str(task_run.id)}


@flow
def publish_artifacts() -> dict[str, str]:
    draft = create_markdown_artifact("# Draft", key="baton-summary", description="first version")
    final = create_markdown_artifact("# Final\n\nAll **good**.", key="baton-summary", description="second version")
    from_task = tabulate()
    link = create_link_artifact("https://example.com/baton", link_text="Baton docs", key="baton-link")
    # An async_dispatch function, typed as possibly a coroutine; in a sync flow it returns the UUID.
    progress = cast(UUID, create_progress_artifact(25.0, key="baton-progress", description="Loading rows"))
    update_progress_artifact(progress, 80.0)
    return {"draft": str(draft), "final": str(final), "link": str(link), "progress": str(progress), **from_task}


if __name__ == "__main__":
    state = publish_artifacts(return_state=True)
    print(json.dumps({"flow_run_id": str(state.state_details.flow_run_id), "result": state.result()}))
