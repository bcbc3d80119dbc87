"""Actor tests: a server on a real loopback port with the whole events pipeline (see tests/pipeline.py), so that
what a request starts, the embedded actors finish in the test's database."""

from __future__ import annotations

from tests.pipeline import pipeline, server_context, settings  # noqa: F401 (fixtures)

# The served server and its HTTP client, as the server tests have them (over the pipeline's context, below).
from tests.server.conftest import base_url, client  # noqa: F401
