"""A single sign-on the provider or Baton refused (kept apart from the modules that load the OAuth and JOSE
libraries, which a server loads only once someone signs in that way)."""

from __future__ import annotations

from typing import Any

from baton.errors import BatonError


class SsoRefused(BatonError):
    """`reason` is the audit log's word for the refusal, `status` the sign-in page's status."""

    def __init__(self, reason: str, message: str, status: int = 401) -> None:
        super().__init__(message)
        self.reason = reason
        self.status = status


def is_configured(settings: Any) -> bool:
    """Single sign-on is on: BATON_AUTH_OIDC_ISSUER and _CLIENT_ID are set."""
    return bool(settings.auth_oidc_issuer and settings.auth_oidc_client_id)
