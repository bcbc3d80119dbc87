"""Serves the `add` flow as `add/triggered` with deployment triggers (`flow.serve(triggers=[...])`), until
terminated. With `--metric`, a metric trigger as Prefect Cloud defines them is added (Prefect's own server refuses
it: it has no metric triggers)."""

from __future__ import annotations

import sys
from datetime import timedelta

from add import add
from prefect.events import (
    DeploymentCompoundTrigger,
    DeploymentEventTrigger,
    DeploymentMetricTrigger,
    EventTrigger,
    MetricTriggerOperator,
    MetricTriggerQuery,
)
from prefect.events.schemas.automations import PrefectMetric

if __name__ == "__main__":
    triggers: list[object] = [
        DeploymentEventTrigger(
            name="on-ping",
            match={"prefect.resource.id": "my.external.resource"},
            expect={"external.resource.pinged"},
            parameters={"x": "{{ event.payload.x }}", "y": 1},
        ),
        DeploymentCompoundTrigger(
            name="both-done",
            require="all",
            within=timedelta(hours=1),
            triggers=[
                EventTrigger(expect={"etl.extract.done"}, match={"prefect.resource.id": "etl.*"}),
                EventTrigger(expect={"etl.load.done"}, match={"prefect.resource.id": "etl.*"}),
            ],
        ),
    ]
    if "--metric" in sys.argv:
        query = MetricTriggerQuery(
            name=PrefectMetric.successes,
            threshold=0.5,
            operator=MetricTriggerOperator.LT,
            range=timedelta(minutes=10),
            firing_for=timedelta(minutes=5),
        )
        triggers.append(DeploymentMetricTrigger(name="mostly-failing", metric=query))
    add.serve(name="triggered", triggers=triggers)  # type: ignore[arg-type]
