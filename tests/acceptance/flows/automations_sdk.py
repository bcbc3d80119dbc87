"""Drives `prefect.automations.Automation` against the server: create, read by name and by id, update, disable,
enable, delete. Prints one JSON line: what each step read back (the test compares it with the server's rows)."""

from __future__ import annotations

import json
from datetime import timedelta

from prefect.automations import Automation, DoNothing, EventTrigger, Posture


def main() -> dict[str, object]:
    trigger = EventTrigger(
        match={"prefect.resource.id": "prefect.flow-run.*"},
        expect={"prefect.flow-run.Failed"},
        posture=Posture.Reactive,
        threshold=2,
        within=timedelta(minutes=5),
    )
    made = Automation(name="sdk-automation", trigger=trigger, actions=[DoNothing()]).create()
    by_name = Automation.read(name="sdk-automation")
    by_id = Automation.read(id=made.id)
    by_id.description = "updated by the SDK"
    by_id.tags = ["sdk"]
    by_id.update()
    updated = Automation.read(id=made.id)
    disabled = updated.disable()
    after_disable = Automation.read(id=made.id).enabled
    enabled = updated.enable()
    after_enable = Automation.read(id=made.id).enabled
    deleted = updated.delete()
    try:
        Automation.read(id=made.id)
        gone = False
    except ValueError:
        gone = True
    return {
        "id": str(made.id),
        "trigger_within": made.trigger.within.total_seconds(),  # type: ignore[union-attr]
        "by_name_id": str(by_name.id),
        "by_id_name": by_id.name,
        "updated": [updated.description, updated.tags],
        "disable": [disabled, after_disable],
        "enable": [enabled, after_enable],
        "deleted": deleted,
        "gone": gone,
    }


if __name__ == "__main__":
    print(json.dumps(main()))
