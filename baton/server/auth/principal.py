"""`Principal`: who is calling, and what its role lets it do."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Literal

from baton.server.permissions import ALL_PERMISSIONS, PUBLIC, SIGNED_IN

PrincipalKind = Literal["user", "service_account", "anonymous"]
#: How the caller proved who it is.
Via = Literal["api_key", "session", "basic", "none"]


@dataclass(frozen=True)
class Principal:
    kind: PrincipalKind
    name: str
    role: str
    permissions: frozenset[str]
    id: uuid.UUID | None = None
    via: Via = "none"
    key_id: uuid.UUID | None = None
    session_id: uuid.UUID | None = None
    csrf_token: str | None = field(default=None, repr=False)
    #: When the credential stops working (key, account or session expiry); None for never.
    valid_until: dt.datetime | None = None

    @property
    def is_anonymous(self) -> bool:
        return self.kind == "anonymous"

    def may(self, permission: str) -> bool:
        if permission == PUBLIC:
            return True
        if permission == SIGNED_IN:
            return True
        return permission in self.permissions


#: The caller when authentication is off: may do everything, and is named so in the audit log.
ANONYMOUS = Principal(kind="anonymous", name="anonymous", role="admin", permissions=ALL_PERMISSIONS)
