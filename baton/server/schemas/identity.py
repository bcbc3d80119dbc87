"""Users, service accounts, API keys, roles and the audit log: request bodies and the objects the API answers.

Response objects list their fields, so a row's password hash or key hash can never reach an answer."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any

from pydantic import AfterValidator, Field

from baton.server.schemas.base import ActionModel, ApiModel, Limit, ListingModel, ObjectModel, Offset, utc

# The columns hold 255 characters; the rules (baton.server.auth.identity) refuse names over 100 with a reason.
AccountName = Annotated[str, Field(min_length=1, max_length=255)]
# argon2 hashes any length; a cap keeps a request from making the server hash megabytes.
Password = Annotated[str, Field(min_length=1, max_length=1024)]
# A time without a zone is taken as UTC, so that it compares with the stored (aware) times.
UtcDatetime = Annotated[dt.datetime, AfterValidator(utc)]


class Me(ApiModel):
    kind: str
    id: uuid.UUID | None = None
    name: str
    role: str
    permissions: list[str]
    auth_enabled: bool


class PasswordChange(ActionModel):
    current_password: Password
    new_password: Password


class ApiKey(ApiModel):
    id: uuid.UUID
    created: dt.datetime | None = None
    account_id: uuid.UUID
    name: str
    prefix: str
    expires_at: dt.datetime | None = None
    last_used_at: dt.datetime | None = None
    revoked_at: dt.datetime | None = None


class IssuedApiKey(ApiKey):
    """A key row with the key itself, answered once, when the key is made."""

    api_key: str


class ApiKeyCreate(ActionModel):
    name: AccountName
    expires_at: UtcDatetime | None = None


class User(ObjectModel):
    name: str
    role: str
    disabled: bool
    #: The e-mail single sign-on gave at the user's last sign-in.
    email: str | None = None
    #: The identity provider (issuer) of a user made by single sign-on; None for a local user.
    sso_issuer: str | None = None


class UserCreate(ActionModel):
    name: AccountName
    role: AccountName
    password: Password


class UserUpdate(ActionModel):
    """Only the fields present change."""

    role: AccountName | None = None
    disabled: bool | None = None
    password: Password | None = None


class AccountFilter(ListingModel):
    name_like: str | None = Field(default=None, max_length=255)
    limit: Limit | None = None
    offset: Offset = 0


class ServiceAccount(ObjectModel):
    name: str
    role: str
    disabled: bool
    expires_at: dt.datetime | None = None
    api_keys: list[ApiKey] = Field(default_factory=list)


class ServiceAccountWithKey(ServiceAccount):
    """A service account with its new key, answered once, on create and on rotate."""

    api_key: str


class ServiceAccountCreate(ActionModel):
    name: AccountName
    role: AccountName
    expires_at: UtcDatetime | None = None


class ServiceAccountUpdate(ActionModel):
    role: AccountName | None = None
    disabled: bool | None = None


class Role(ApiModel):
    name: str
    description: str
    permissions: list[str]
    built_in: bool


class RoleCreate(ActionModel):
    name: AccountName
    description: str = Field(default="", max_length=2000)
    permissions: list[str] = Field(max_length=500)


class RoleUpdate(ActionModel):
    description: str | None = Field(default=None, max_length=2000)
    permissions: list[str] | None = Field(default=None, max_length=500)


class AuditCondition(ListingModel):
    """Which audit entries: every field given must match (times are inclusive)."""

    actor_name: str | None = Field(default=None, max_length=255)
    actor_kind: str | None = Field(default=None, max_length=20)
    action: str | None = Field(default=None, max_length=100)
    action_prefix: str | None = Field(default=None, max_length=100)
    resource_kind: str | None = Field(default=None, max_length=50)
    resource_id: str | None = Field(default=None, max_length=255)
    outcome: str | None = Field(default=None, max_length=20)
    occurred_after: UtcDatetime | None = None
    occurred_before: UtcDatetime | None = None

    def condition_values(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in AuditCondition.model_fields}


class AuditFilter(AuditCondition):
    limit: Limit | None = None
    offset: Offset = 0


class AuditEntry(ApiModel):
    id: uuid.UUID
    occurred: dt.datetime
    actor_kind: str
    actor_id: uuid.UUID | None = None
    actor_name: str
    action: str
    resource_kind: str | None = None
    resource_id: str | None = None
    resource_name: str | None = None
    address: str | None = None
    outcome: str
    status_code: int | None = None
    detail: dict[str, Any] = Field(default_factory=dict)
    #: The workspace the change was made in (None: the default workspace, or a global object).
    workspace_id: uuid.UUID | None = None
