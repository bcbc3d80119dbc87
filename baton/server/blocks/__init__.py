"""Blocks beyond plain data access: built-in block definitions, schema checksums, secrets and their encryption."""

from __future__ import annotations

from baton.server.blocks.registration import register_system_blocks

__all__ = ["register_system_blocks"]
