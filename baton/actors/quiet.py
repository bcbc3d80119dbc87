"""Periodic jobs skip the workspaces where they found nothing to do, until something there changes.

In a server of many workspaces most of them are idle, and every periodic job's pass in each of them (a message, a
transaction, a query or two) finds nothing, on the embedded server's own event loop. A pass that finds nothing may
say so, with the earliest time its work could come due without any write (`NothingDue`: a Scheduled run's start plus
the late threshold, a lease's expiry; None when only a write can bring work). Until that time, and as long as no
write transaction ended in the workspace's store since the pass began (`ChangeMarks`), the beat does not send that
job's message to that workspace. A write there, from a request or an actor, wakes every job of the workspace at its
next period: what a user sees happens within the same bounds as without skipping.

The marks count this process's writes only, so skipping is on where every write to the stores goes through this
process: the embedded server. With Redis (API and services in separate processes) nothing is skipped. A write made
behind the server's back (a tool writing to the database directly) is still found within QUIET_RECHECK_SECONDS.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from dataclasses import dataclass

from baton.server.database.change_marks import ChangeMarks
from baton.server.database.types import utcnow

# A job visits a quiet workspace at least this often all the same, for writes the marks cannot see (another process
# writing to the database); a tenth of the cost of visiting every workspace at a 5 s period.
QUIET_RECHECK_SECONDS = 300.0


@dataclass(frozen=True)
class NothingDue:
    """What a periodic job's pass returns when it found nothing to do: nothing can come due before `until` unless the
    store changes (None: only a change can bring work)."""

    until: dt.datetime | None = None


@dataclass(frozen=True)
class _Quiet:
    mark: int
    until: dt.datetime | None
    recheck_at: float


class QuietWorkspaces:
    """Which (job, workspace) pairs found nothing to do, and since which change mark."""

    def __init__(self, marks: ChangeMarks, recheck_seconds: float = QUIET_RECHECK_SECONDS) -> None:
        self.marks = marks
        self.recheck_seconds = recheck_seconds
        self._quiet: dict[tuple[str, uuid.UUID], _Quiet] = {}

    def mark(self, workspace_id: uuid.UUID) -> int:
        """The workspace's change mark, read before a pass begins."""
        return self.marks.mark(workspace_id)

    def record(self, job: str, workspace_id: uuid.UUID, mark: int, outcome: object) -> None:
        """Remember how the pass of `job` that began at change mark `mark` ended: quiet if it returned `NothingDue`,
        otherwise the workspace is visited at every period."""
        if isinstance(outcome, NothingDue):
            recheck_at = time.monotonic() + self.recheck_seconds
            self._quiet[job, workspace_id] = _Quiet(mark, outcome.until, recheck_at)
        else:
            self._quiet.pop((job, workspace_id), None)

    def is_quiet(self, job: str, workspace_id: uuid.UUID, now: dt.datetime | None = None) -> bool:
        """Whether `job` has nothing to do in the workspace: its last pass found nothing, no write ended there since
        that pass began, its work is not due yet, and the recheck is not due either."""
        quiet = self._quiet.get((job, workspace_id))
        if quiet is None:
            return False
        if (
            quiet.mark != self.marks.mark(workspace_id)
            or time.monotonic() >= quiet.recheck_at
            or (quiet.until is not None and (now or utcnow()) >= quiet.until)
        ):
            del self._quiet[job, workspace_id]
            return False
        return True
