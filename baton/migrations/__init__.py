"""Alembic migrations for Baton's schema: one tree for SQLite and PostgreSQL (see env.py)."""
