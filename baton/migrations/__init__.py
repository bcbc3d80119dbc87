"""Alembic migrations for Baton's schema: one tree for SQLite and PostgreSQL (see env.py)."""

from __future__ import annotations

# The newest revision. Kept here so that a server whose schema is current never imports Alembic;
# a test checks that it equals Alembic's own head.
HEAD_REVISION = "0017"
