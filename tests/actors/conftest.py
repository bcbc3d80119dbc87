"""Actor tests: a server on a real loopback port with the whole events pipeline (see tests/pipeline.py), so that
what a request starts, the embedded actors finish in the test's database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from baton.server.context import ServerContext
from baton.server.database.engine import Database
from baton.settings import Settings
from tests.pipeline import pipeline_settings, running_pipeline

# The served server and its HTTP client, as the server tests have them (over the pipeline's context, below).
from tests.server.conftest import base_url, client  # noqa: F401


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return pipeline_settings(database_url, tmp_path)


@pytest.fixture
async def server_context(settings: Settings, database: Database) -> AsyncIterator[ServerContext]:
    """The served context, with a publisher and the embedded actors (tests call it `pipeline`)."""
    async with running_pipeline(settings, database) as context:
        yield context


@pytest.fixture
def pipeline(server_context: ServerContext) -> ServerContext:
    return server_context
