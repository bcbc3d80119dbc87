"""The account of a Baton server. Prefect Cloud's URLs name an account and a workspace in it; a Baton server has one
account, so the server and the client share its id."""

from __future__ import annotations

import uuid

#: The one account of a Baton server: the `{account_id}` of every workspace URL.
DEFAULT_ACCOUNT_ID = uuid.UUID("00000000-0000-4000-8000-000000000000")
