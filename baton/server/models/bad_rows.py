"""Periodic jobs skip a row they cannot handle, log its id once per process, and go on with the others."""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger("baton.jobs")

# (job, row id) pairs already logged: a bad row is met on every pass, and one warning per process is enough.
_logged: set[tuple[str, str]] = set()


def skip_bad_row(job: str, row_id: Any, error: BaseException) -> None:
    """Record that `job` skipped the row `row_id` because of `error`: a warning the first time, silence after."""
    key = (job, str(row_id))
    if key in _logged:
        return
    _logged.add(key)
    logger.warning("%s skipped row %s: %s: %s", job, row_id, type(error).__name__, error)
