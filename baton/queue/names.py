"""Queue names, importable without Dramatiq (the command line lists them in its help)."""

from __future__ import annotations

#: Queue of the events pipeline: recording events and the server's own flow-run events.
EVENTS_QUEUE = "events"
#: Queue of periodic jobs sent by the beat.
PERIODIC_QUEUE = "periodic"
#: Queue of notification matching and delivery (kept apart so a slow channel never delays event recording).
NOTIFICATIONS_QUEUE = "notifications"
QUEUES = (EVENTS_QUEUE, PERIODIC_QUEUE, NOTIFICATIONS_QUEUE)
