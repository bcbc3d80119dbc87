"""Retention: per kind of data, which rows are past their retention and how to delete them with their dependents,
and the pass that deletes them in short, bounded transactions."""

from __future__ import annotations

from baton.server.models.retention.kinds import RETENTION_KINDS, RetentionKind
from baton.server.models.retention.prune import KindPruned, count_expired, prune_expired, retention_days

__all__ = ["RETENTION_KINDS", "KindPruned", "RetentionKind", "count_expired", "prune_expired", "retention_days"]
