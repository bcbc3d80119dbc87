"""`ChangeMarks`: a count, per store, of the write transactions this process has ended there.

A periodic job that found nothing to do in a workspace may skip it until the workspace's mark moves
(`baton.actors.quiet`). The marks only see this process's writes, so they say "nothing changed" truthfully only where
every write to the stores goes through this process: the embedded server (API, actors and beat in one process).
"""

from __future__ import annotations

import uuid


class ChangeMarks:
    """Per workspace (None: the default one), a number that grows with every write transaction ended in its store,
    committed or not. Shared by the main `Database` and its workspaces' units of work; used on one event loop."""

    def __init__(self) -> None:
        self._marks: dict[uuid.UUID | None, int] = {}

    def mark(self, workspace_id: uuid.UUID | None) -> int:
        """The workspace's mark now: equal to an earlier reading only if no write transaction ended in between."""
        return self._marks.get(workspace_id, 0)

    def bump(self, workspace_id: uuid.UUID | None) -> None:
        """Count a write transaction ended in the workspace's store (after its commit or rollback)."""
        self._marks[workspace_id] = self._marks.get(workspace_id, 0) + 1
