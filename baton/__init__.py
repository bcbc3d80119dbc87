"""Baton: a self-hosted workflow-orchestration server that speaks the Prefect 3 REST API."""

from __future__ import annotations

__version__ = "0.1.0"

# The Prefect release whose client Baton is compatible with; `/api/admin/version` reports it
# because the official client refuses a server of another major version.
PREFECT_COMPATIBLE_VERSION = "3.9.1"
# The REST API schema version the Prefect 3 client sends in X-PREFECT-API-VERSION.
API_SCHEMA_VERSION = "0.8.4"
