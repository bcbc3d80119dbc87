"""Queue names, importable without Dramatiq (the command line lists them in its help)."""

from __future__ import annotations

#: Queue of the events pipeline: recording events and the server's own flow-run events.
EVENTS_QUEUE = "events"
#: Queue of committed flow-run state changes: their events, notification matching, lease release, child cancellation.
#: Apart from the events queue, so that a notification never waits behind a backlog of client event batches.
STATE_CHANGES_QUEUE = "state_changes"
#: Queue of periodic jobs sent by the beat.
PERIODIC_QUEUE = "periodic"
#: Queue of notification matching and delivery (kept apart so a slow channel never delays event recording).
NOTIFICATIONS_QUEUE = "notifications"
#: Queue of automations: evaluating triggers on recorded events and running the actions of firings (apart from the
#: events queue, so that a slow action never delays event recording).
AUTOMATIONS_QUEUE = "automations"
QUEUES = (EVENTS_QUEUE, STATE_CHANGES_QUEUE, PERIODIC_QUEUE, NOTIFICATIONS_QUEUE, AUTOMATIONS_QUEUE)
