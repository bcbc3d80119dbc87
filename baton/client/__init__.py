"""A small synchronous Python client for the Baton API: `with BatonClient() as client: client.read_variables()`.

Every method returns the API's JSON (dicts and lists) and raises the `baton.errors` exception matching the answer:
ObjectNotFound (404), ObjectAlreadyExists (409), ValidationFailed (422, with the server's detail), Forbidden (403),
ConcurrencyLimitReached (423), LeaseExpired (410), ServiceUnavailable (503, or no server listening at the URL).
"""

from __future__ import annotations

from baton.client.accounts import AccountsClient
from baton.client.artifacts import ArtifactsClient
from baton.client.automations import AutomationsClient
from baton.client.base import DEFAULT_TIMEOUT_SECONDS, default_api_url
from baton.client.blocks import BlocksClient
from baton.client.concurrency_limits import ConcurrencyLimitsClient
from baton.client.deployments import DeploymentsClient
from baton.client.flow_runs import FlowRunsClient
from baton.client.variables import VariablesClient
from baton.client.work_pools import WorkPoolsClient
from baton.client.workspaces import WorkspacesClient


class BatonClient(
    VariablesClient,
    ArtifactsClient,
    BlocksClient,
    ConcurrencyLimitsClient,
    WorkPoolsClient,
    DeploymentsClient,
    FlowRunsClient,
    AutomationsClient,
    WorkspacesClient,
    AccountsClient,
):
    """A connection to the Baton API at `api_url` (default: BATON_API_URL, else this profile's server address), working
    in the workspace `workspace` (default: BATON_WORKSPACE, else the default workspace)."""


__all__ = ["DEFAULT_TIMEOUT_SECONDS", "BatonClient", "default_api_url"]
