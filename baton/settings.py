"""Baton's settings: one typed, frozen object, read once from the environment, the active profile and defaults.

Every field `name` is set by the environment variable `BATON_<NAME>` or by the same key in a profile of
`<home>/profiles.toml`. Precedence, highest first: environment, active profile, default.
"""

from __future__ import annotations

import base64
import binascii
import difflib
import functools
import json
import os
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, Union
from urllib.parse import urlsplit, urlunsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    TypeAdapter,
    ValidationError,
)

from baton.errors import SettingsError
from baton.profiles import DEFAULT_PROFILE, ProfileStore

Source = Literal["env", "profile", "default"]
LogLevel = Annotated[
    Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"],
    BeforeValidator(lambda value: value.upper() if isinstance(value, str) else value),
]
ExpandedPath = Annotated[Path, AfterValidator(lambda path: path.expanduser())]


def _check_fernet_key(value: SecretStr) -> SecretStr:
    try:
        decoded = base64.urlsafe_b64decode(value.get_secret_value().encode())
    except (ValueError, binascii.Error):
        decoded = b""
    if len(decoded) != 32:
        raise ValueError("a Fernet key is 32 bytes encoded as url-safe base64 (44 characters)")
    return value


FernetKey = Annotated[SecretStr, AfterValidator(_check_fernet_key)]


def _check_time_zone(value: str) -> str:
    import zoneinfo

    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{value!r} is not a time zone name such as UTC or Europe/Paris") from None
    return value


TimeZoneName = Annotated[str, AfterValidator(_check_time_zone)]


def _check_base_path(value: str) -> str:
    if value == "":
        return value
    if not value.startswith("/") or value.endswith("/") or "//" in value or any(c in value for c in "?#% "):
        raise ValueError(f"{value!r} is not a sub-path such as /orchestrator")
    return value


BasePath = Annotated[str, AfterValidator(_check_base_path)]


def _split_commas(value: Any) -> Any:
    if isinstance(value, str):
        return tuple(item.strip() for item in value.split(",") if item.strip())
    return value


# A list given as one comma-separated string (environment variables and profiles hold text).
CommaList = Annotated[tuple[str, ...], BeforeValidator(_split_commas)]


class RoleRule(BaseModel):
    """One single sign-on rule: a user whose groups claim holds `group` gets `role` in `workspace` (None: the
    default workspace)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    group: str = Field(min_length=1)
    role: str = Field(min_length=1)
    workspace: str | None = None


def _parse_json_list(value: Any) -> Any:
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return ()
        try:
            return json.loads(text)
        except ValueError:
            raise ValueError("not valid JSON") from None
    return value


# Rules given as a JSON list of objects (environment variables and profiles hold text).
RoleRules = Annotated[tuple[RoleRule, ...], BeforeValidator(_parse_json_list)]

ENV_PREFIX = "BATON_"
# Read from the environment only: the profiles file lives in BATON_HOME and BATON_PROFILE picks one of its profiles.
HOME_VARIABLE = "BATON_HOME"
PROFILE_VARIABLE = "BATON_PROFILE"
SECRET_MASK = "********"


class Settings(BaseModel):
    """Every setting Baton reads; build it with `load_settings()` or, in tests, with keyword arguments."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    home: ExpandedPath = Field(
        default_factory=lambda: Path("~/.baton").expanduser(),
        description="The folder holding profiles.toml and the default SQLite database.",
    )
    api_url: str | None = Field(
        default=None, description="The URL of the API the CLI and SDK talk to, e.g. http://127.0.0.1:4200/api."
    )
    api_key: SecretStr | None = Field(
        default=None,
        description="The API key the CLI, the SDK and `baton worker start` send (`baton login` stores it).",
    )
    workspace: str | None = Field(
        default=None,
        description="The workspace the CLI and SDK work in, by name or id (`baton workspace use NAME`); unset: the "
        "default workspace. Users, roles, the audit log and the workspaces themselves are global.",
    )
    api_database_connection_url: str | None = Field(
        default=None,
        description="The SQLAlchemy URL of the database; unset means SQLite at <home>/baton.db.",
    )
    api_database_timeout: float = Field(default=10.0, gt=0, description="Seconds a database statement may take.")
    api_database_connection_timeout: float = Field(
        default=5.0, gt=0, description="Seconds to wait for a new database connection."
    )
    api_database_pool_size: int = Field(
        default=30,
        ge=1,
        description="Connections kept open in the database pool (PostgreSQL): enough for a busy server's concurrent "
        "requests, since a connection opened beyond this is closed again when returned, and its replacement costs a "
        "new server backend and preparing every statement again.",
    )
    api_database_max_overflow: int = Field(
        default=10, ge=0, description="Connections the pool may open beyond its size under load."
    )
    api_database_pool_recycle: int = Field(
        default=3600, description="Seconds after which a pooled connection is replaced (-1 never)."
    )
    api_database_isolation_level: Literal["READ COMMITTED", "REPEATABLE READ", "SERIALIZABLE"] = Field(
        default="READ COMMITTED",
        description="The isolation level of every transaction (PostgreSQL; SQLite is always serializable). State "
        "changes that a stricter level aborts on a concurrent update are retried in the server.",
    )
    api_database_echo: bool = Field(default=False, description="Log every SQL statement.")
    api_database_migrate_on_start: bool = Field(
        default=True, description="Upgrade the database schema when the server starts."
    )
    redis_url: str | None = Field(
        default=None, description="The Redis URL for the message queue; unset means an embedded in-memory queue."
    )
    redis_namespace: str = Field(default="baton", description="The prefix of every Redis key Baton writes.")
    queue_worker_heartbeat_timeout: float = Field(
        default=60.0,
        gt=0,
        description="Seconds after which the messages a silent `baton server services` process was working on are "
        "handed to another one (Redis mode).",
    )
    queue_worker_threads: int = Field(
        default=4, ge=1, description="Actor threads of the worker embedded in `baton server start` (no Redis)."
    )
    queue_beat_lease_seconds: float = Field(
        default=10.0,
        gt=0,
        description="How long the beat's leadership lasts without renewal; another services process takes over "
        "within this time when the leader dies.",
    )
    events_batch_size: int = Field(
        default=500, ge=1, le=2000, description="The most events the server puts in one queue message."
    )
    # Per-batch costs (a queue message, a transaction) dominate small batches, so a much shorter wait costs the
    # services and PostgreSQL more CPU per event; 0.1 s is a tenth of the 1 s budget for an event to show. Flow-run
    # state changes do not wait this long (publisher.STATE_CHANGE_FLUSH_SECONDS).
    events_flush_interval: float = Field(
        default=0.1, gt=0, le=5, description="Seconds the server waits to fill a batch of events before sending it."
    )
    queue_backlog_limit: int = Field(
        default=4,
        ge=0,
        description="A flow-run state change waits (at most 1 s) while more messages than this of the state-change "
        "and notifications queues are waiting or being worked on, so that a burst does not leave the notifications "
        "of its state changes seconds behind; 0 turns the wait off.",
    )
    events_max_pending: int = Field(
        default=50_000,
        ge=1,
        description="Events a server process may hold while the queue is slow before clients wait (back-pressure).",
    )
    services_schema_wait_seconds: float = Field(
        default=30.0,
        ge=0,
        description="How long `baton server services` waits at start for the database schema to be upgraded (by "
        "`baton server start` or `baton server database upgrade`) before it gives up with an error.",
    )
    services_late_runs_after_seconds: float = Field(
        default=15.0, ge=0, description="Seconds past its scheduled time after which a Scheduled run becomes Late."
    )
    services_lease_sweep_seconds: float = Field(
        default=5.0,
        gt=0,
        description="How often expired concurrency leases are released, in seconds: a dead holder's slot comes back "
        "within its lease duration plus this.",
    )
    services_late_runs_loop_seconds: float = Field(
        default=5.0, gt=0, description="How often the beat looks for late runs, in seconds."
    )
    services_scheduler_loop_seconds: float = Field(
        default=60.0,
        gt=0,
        description="How often the beat has the scheduler insert deployments' upcoming runs, in seconds (a "
        "deployment created or changed is scheduled at once as well).",
    )
    services_scheduler_min_runs: int = Field(
        default=3, ge=0, description="The scheduler keeps at least this many future runs per active deployment."
    )
    services_scheduler_max_runs: int = Field(
        default=100, ge=1, description="The scheduler inserts at most this many future runs per schedule."
    )
    services_scheduler_min_scheduled_time_seconds: float = Field(
        default=3600.0,
        ge=0,
        description="The scheduler keeps runs scheduled at least this many seconds ahead (with min_runs, both hold).",
    )
    services_scheduler_max_scheduled_time_seconds: float = Field(
        default=100 * 24 * 3600.0,
        gt=0,
        description="The scheduler never inserts a run further ahead than this many seconds (100 days).",
    )
    services_foreman_loop_seconds: float = Field(
        default=15.0,
        gt=0,
        description="How often the statuses of workers, work pools, work queues and deployments are updated, in "
        "seconds.",
    )
    services_foreman_inactivity_heartbeat_multiple: float = Field(
        default=3.0,
        gt=0,
        description="A worker goes OFFLINE after this many of its heartbeat intervals without a heartbeat.",
    )
    services_foreman_fallback_heartbeat_interval_seconds: float = Field(
        default=30.0, gt=0, description="The heartbeat interval assumed for a worker that did not state one."
    )
    services_foreman_last_polled_timeout_seconds: float = Field(
        default=60.0,
        gt=0,
        description="A work queue or deployment that no worker polled for this many seconds becomes NOT_READY.",
    )
    services_zombie_runs_loop_seconds: float = Field(
        default=15.0, gt=0, description="How often the beat looks for crashed (zombie) flow runs, in seconds."
    )
    services_automations_proactive_loop_seconds: float = Field(
        default=5.0,
        gt=0,
        description="How often the beat closes the windows of proactive automation triggers, in seconds: a proactive "
        "trigger fires at most this late after its window ends.",
    )
    services_automations_stale_action_seconds: float = Field(
        default=300.0,
        gt=0,
        description="An automation action run RUNNING for longer than this belongs to a services process that died, "
        "and is run again: longer than any action takes (a webhook times out after 10 s).",
    )
    services_automations_stalled_actions_loop_seconds: float = Field(
        default=30.0,
        gt=0,
        description="How often the beat queues again the automation action runs left unfinished (a lost message, "
        "a services process that died), in seconds.",
    )
    services_unpublished_state_changes_loop_seconds: float = Field(
        default=30.0,
        gt=0,
        description="How often the beat looks for committed flow-run states without an event (their message lost with "
        "an API process killed right after the commit) and emits them, with their notifications, in seconds.",
    )
    services_unpublished_state_changes_grace_seconds: float = Field(
        default=60.0,
        gt=0,
        description="How old a flow-run state without an event must be before that sweep takes its message for lost, "
        "in seconds (younger ones are left to their message).",
    )
    services_zombie_runs_timeout_seconds: float = Field(
        # Two of the Prefect engine's flow-run heartbeats at their default frequency (180 s), so a run that only
        # sends those is never taken for dead between two of them.
        default=360.0,
        gt=0,
        description="A Running flow run whose last heartbeat (its own heartbeat events or its worker's, whichever is "
        "later) is older than this many seconds is marked Crashed; a Cancelling one is marked Cancelled.",
    )
    worker_heartbeat_seconds: float = Field(
        default=30.0, gt=0, description="How often `baton worker start` tells the server it is alive, in seconds."
    )
    worker_query_seconds: float = Field(
        default=10.0, gt=0, description="How often `baton worker start` asks its work pool for runs, in seconds."
    )
    worker_prefetch_seconds: float = Field(
        default=10.0,
        ge=0,
        description="`baton worker start` takes runs scheduled up to this many seconds ahead, so they start on time.",
    )
    worker_cancellation_poll_seconds: float = Field(
        default=2.0,
        gt=0,
        description="How often `baton worker start` checks whether one of its runs is being cancelled, in seconds.",
    )
    services_cancelling_timeout_seconds: float = Field(
        default=300.0,
        gt=0,
        description="A flow run still Cancelling after this many seconds is marked Cancelled.",
    )
    server_api_host: str = Field(default="127.0.0.1", description="The address the server listens on.")
    auth_enabled: bool = Field(
        default=False,
        description="Require every caller to sign in (users) or present an API key (service accounts, users).",
    )
    auth_allow_anonymous: bool = Field(
        default=False,
        description="Let the server listen on a non-loopback address with authentication off (anyone who reaches "
        "the port can do anything).",
    )
    auth_bootstrap_admin_key: SecretStr | None = Field(
        default=None,
        description="When set and no admin exists, the server creates the admin service account `bootstrap-admin` "
        "with this API key at start.",
    )
    auth_session_hours: float = Field(default=12.0, gt=0, description="How long a sign-in lasts, in hours.")
    auth_cache_seconds: float = Field(
        default=0.5,
        gt=0,
        le=1.0,
        description="How often a server process checks for revoked keys, sessions and changed roles, in seconds.",
    )
    auth_local_passwords: bool = Field(
        default=True,
        description="Let users sign in with a password (the sign-in form and 'name:password' credentials); false "
        "leaves single sign-on and API keys, and password sign-in only to BATON_AUTH_BREAK_GLASS_USERS.",
    )
    auth_break_glass_users: CommaList = Field(
        default=(),
        description="Users who may still sign in with a password when BATON_AUTH_LOCAL_PASSWORDS is false, "
        "comma-separated; each such sign-in is audited as auth.break_glass_sign_in.",
    )
    auth_oidc_issuer: str | None = Field(
        default=None,
        description="The OpenID Connect issuer URL of the identity provider (its discovery document is "
        "<issuer>/.well-known/openid-configuration); set it with the client id to turn single sign-on on.",
    )
    auth_oidc_client_id: str | None = Field(
        default=None, description="The client id Baton has at the identity provider (the ID token's audience)."
    )
    auth_oidc_client_secret: SecretStr | None = Field(
        default=None, description="The client secret, for a confidential client; unset for a public client (PKCE)."
    )
    auth_oidc_provider_name: str = Field(
        default="single sign-on", description="The provider's name on the sign-in button: 'Sign in with <name>'."
    )
    auth_oidc_scopes: CommaList = Field(
        default=("openid", "profile", "email"),
        description="The scopes asked for, comma-separated (openid is always added); some providers need 'groups'.",
    )
    auth_oidc_username_claim: str = Field(
        default="preferred_username", description="The ID token (or userinfo) claim that gives the Baton user name."
    )
    auth_oidc_email_claim: str = Field(default="email", description="The claim that gives the user's e-mail.")
    auth_oidc_groups_claim: str = Field(
        default="groups",
        description="The claim whose values (a list, or one string) the role rules match, e.g. groups or roles.",
    )
    auth_oidc_role_rules: RoleRules = Field(
        default=(),
        description='Which groups get which role, as a JSON list: [{"group": "baton-admins", "role": "admin"}, '
        '{"group": "data", "role": "developer", "workspace": "analytics"}]; the first rule matching one of the '
        "user's groups wins, a missing workspace means the default one; a workspace is named by name or id. Applied "
        "at every sign-in.",
    )
    auth_oidc_default_role: str | None = Field(
        default=None,
        description="The role of a single sign-on user whom no rule matches; unset: such a user is refused.",
    )
    audit_retention_days: int = Field(default=365, ge=0, description="Days audit log entries are kept (0: forever).")
    server_api_port: int = Field(default=4200, ge=1, le=65535, description="The port the server listens on.")
    server_allowed_hosts: CommaList = Field(
        default=(),
        description="More host names the server answers to (its requests' Host header), comma-separated; "
        ".example.com covers its subdomains, * allows any. Always allowed: localhost, 127.0.0.1, ::1, the address "
        "it listens on and the hosts of BATON_UI_URL and BATON_API_URL (a defence against DNS rebinding).",
    )
    server_cors_allowed_origins: CommaList = Field(
        default=(),
        description="Web origins (scheme://host[:port]) whose pages may call the API, comma-separated; * allows any "
        "origin, without cookies. Unset means none (no CORS headers are sent).",
    )
    server_ui_enabled: bool = Field(default=True, description="Serve the web UI as well as the API.")
    server_metrics_cache_seconds: float = Field(
        default=5.0,
        ge=0,
        description="How long `/metrics` reuses the figures it read from the database and Redis, in seconds, so "
        "that frequent scrapes (several Prometheus servers, several API processes) stay cheap; 0 reads them afresh.",
    )
    services_metrics_port: int = Field(
        default=0,
        ge=0,
        le=65535,
        description="The port on which `baton server services` serves the Prometheus metrics of its actors (all its "
        "processes together); 0 serves none.",
    )
    services_metrics_host: str = Field(
        default="127.0.0.1",
        description="The address `baton server services` serves its metrics on (without authentication: keep it "
        "private).",
    )
    server_base_path: BasePath = Field(
        default="",
        description="The sub-path the server answers under behind a reverse proxy that passes paths through "
        "unchanged, e.g. /orchestrator (the API at /orchestrator/api, the UI at /orchestrator/); empty means /.",
    )
    server_api_default_limit: int = Field(
        default=200, ge=1, description="The largest page of results a filter endpoint returns."
    )
    server_api_max_body_bytes: int = Field(
        default=50 * 1024 * 1024, ge=1, description="The largest request body the server accepts, in bytes."
    )
    server_encryption_key: FernetKey | None = Field(
        default=None,
        description=(
            "A secret Fernet key (32 url-safe base64-encoded bytes) that encrypts block documents at rest; unset "
            "means a key generated on first use and kept in the database."
        ),
    )
    logging_level: LogLevel = Field(default="INFO", description="How much the server logs.")
    logs_max_message_bytes: int = Field(
        default=1_000_000, ge=1, description="The longest flow or task run log message kept, in bytes."
    )
    events_retention_days: int = Field(
        default=7, ge=0, description="Days events are kept before they are deleted (0: forever)."
    )
    flow_runs_retention_days: int = Field(
        default=90,
        ge=0,
        description="Days a finished flow run (with its task runs, states, inputs, logs and artifacts) is kept after "
        "it ended; runs that have not finished are never deleted (0: forever).",
    )
    logs_retention_days: int = Field(
        default=30, ge=0, description="Days log lines are kept, even while their run is kept longer (0: forever)."
    )
    artifacts_retention_days: int = Field(
        default=90,
        ge=0,
        description="Days an artifact that belongs to no kept run is kept; a run's artifacts go with the run "
        "(0: forever).",
    )
    notifications_retention_days: int = Field(
        default=30,
        ge=0,
        description="Days the record of a finished (sent or failed) notification delivery is kept (0: forever).",
    )
    automations_retention_days: int = Field(
        default=30,
        ge=0,
        description="Days an automation's firing, with its action runs, is kept once its actions finished "
        "(0: forever).",
    )
    services_retention_loop_seconds: float = Field(
        default=3600.0, gt=0, description="Seconds between two passes that delete data past its retention."
    )
    services_retention_batch_size: int = Field(
        default=1000,
        ge=1,
        le=10_000,
        description="Rows of one kind deleted per transaction by a retention pass (each transaction stays short).",
    )
    services_retention_max_batches: int = Field(
        default=50,
        ge=1,
        description="Most batches of one kind a retention pass deletes; the rest waits for the next pass.",
    )
    notifications_max_attempts: int = Field(
        default=5, ge=1, description="How many times Baton tries to deliver one notification."
    )
    notifications_discord_url: str = Field(
        default="https://discord.com",
        description="The base URL of the Discord API that Discord Webhook notifications are posted to.",
    )
    notifications_opsgenie_url: str | None = Field(
        default=None,
        description="The base URL of the Opsgenie API; unset means https://api.opsgenie.com, or "
        "https://api.eu.opsgenie.com for a block in the EU region.",
    )
    notifications_pagerduty_url: str | None = Field(
        default=None,
        description="The base URL of the PagerDuty Events API; unset means https://events.pagerduty.com, or "
        "https://events.eu.pagerduty.com for a block in the EU region.",
    )
    notifications_sendgrid_url: str = Field(
        default="https://api.sendgrid.com", description="The base URL of the SendGrid API that sends emails."
    )
    notifications_twilio_url: str = Field(
        default="https://api.twilio.com", description="The base URL of the Twilio API that sends text messages."
    )
    notifications_retry_backoff_seconds: float = Field(
        default=2.0, gt=0, description="The wait before a notification's first retry; it doubles with each retry."
    )
    notifications_throttle_seconds: float = Field(
        default=60.0,
        ge=0,
        description="A policy sends one message per run and state within this window and folds the rest into one "
        "summary at its end (0: no throttle).",
    )
    notifications_time_zone: TimeZoneName = Field(
        default="UTC", description="The time zone of the times in notification messages, e.g. America/New_York."
    )
    ui_url: str | None = Field(
        default=None,
        description="The web UI's address as people reach it, for links in notifications; unset means "
        "http://<BATON_SERVER_API_HOST>:<BATON_SERVER_API_PORT><BATON_SERVER_BASE_PATH>.",
    )

    @property
    def effective_ui_url(self) -> str:
        """Where people open the UI: `ui_url`, else the address the server listens on."""
        return self.ui_url or f"http://{self.server_api_host}:{self.server_api_port}{self.server_base_path}"

    _sources: dict[str, Source] = PrivateAttr(default_factory=dict)
    _derived: frozenset[str] = PrivateAttr(default_factory=frozenset)
    _profile_name: str = PrivateAttr(default=DEFAULT_PROFILE)

    def model_post_init(self, context: Any, /) -> None:
        # Runs after private attributes exist, so the derived URL can be recorded as a default.
        if self.api_database_connection_url is None:
            object.__setattr__(self, "api_database_connection_url", f"sqlite+aiosqlite:///{self.home / 'baton.db'}")
            self._derived = frozenset({"api_database_connection_url"})

    @property
    def database_url(self) -> str:
        """The database's URL: the setting, or the SQLite default `model_post_init` filled in."""
        url = self.api_database_connection_url
        assert url is not None
        return url

    @property
    def profile_name(self) -> str:
        """The name of the profile the settings were read from."""
        return self._profile_name

    def source_of(self, field_name: str) -> Source:
        """Where a field's value came from; values passed to the constructor count as "env"."""
        if field_name in self._derived:
            return "default"
        if field_name in self._sources:
            return self._sources[field_name]
        return "env" if field_name in self.model_fields_set else "default"

    def display_values(self, show_secrets: bool = False, include_defaults: bool = True) -> dict[str, Any]:
        """JSON-able values keyed by environment name, with secrets and URL passwords masked unless asked."""
        values: dict[str, Any] = {}
        for name in type(self).model_fields:
            if not include_defaults and self.source_of(name) == "default":
                continue
            value = getattr(self, name)
            if isinstance(value, SecretStr):
                value = value.get_secret_value() if show_secrets else SECRET_MASK
            elif isinstance(value, Path):
                value = str(value)
            elif isinstance(value, tuple) and all(isinstance(item, BaseModel) for item in value) and value:
                value = json.dumps([item.model_dump(exclude_none=True) for item in value])
            elif isinstance(value, tuple):
                value = ",".join(value)
            elif isinstance(value, str) and not show_secrets:
                value = mask_secret(name, value)
            values[env_name(name)] = value
        return values


SETTING_NAMES: dict[str, str] = {ENV_PREFIX + name.upper(): name for name in Settings.model_fields}


def env_name(field_name: str) -> str:
    """The environment variable that sets `field_name`."""
    return ENV_PREFIX + field_name.upper()


def baton_home(environ: Mapping[str, str] | None = None) -> Path:
    """The Baton home folder: BATON_HOME from the environment, else ~/.baton."""
    environ = os.environ if environ is None else environ
    return Path(environ.get(HOME_VARIABLE) or "~/.baton").expanduser()


def canonical_setting_name(name: str) -> str:
    """The field name for a setting given as BATON_API_URL, api_url or baton_api_url; SettingsError if unknown."""
    upper = name.strip().upper()
    if not upper.startswith(ENV_PREFIX):
        upper = ENV_PREFIX + upper
    if upper in SETTING_NAMES:
        return SETTING_NAMES[upper]
    if upper == PROFILE_VARIABLE:
        raise SettingsError(f"{PROFILE_VARIABLE} is not a setting; switch profiles with `baton profile use NAME`.")
    # Compared without the shared prefix, which would make every name look close to every other.
    suffixes = difflib.get_close_matches(upper.removeprefix(ENV_PREFIX).lower(), list(Settings.model_fields), n=3)
    matches = [env_name(suffix) for suffix in suffixes]
    if matches:
        raise SettingsError(f"Unknown setting {name!r}. Did you mean: {', '.join(matches)}?")
    raise SettingsError(f"Unknown setting {name!r}. Run `baton config view --show-defaults` to see every setting.")


@functools.cache
def _adapter(field_name: str) -> TypeAdapter[Any]:
    info = Settings.model_fields[field_name]
    annotation: Any = info.annotation
    if info.metadata:
        annotation = Annotated[(annotation, *info.metadata)]  # type: ignore[valid-type]
    return TypeAdapter(annotation)


def _non_none(annotation: Any) -> Any:
    if typing.get_origin(annotation) in (Union, types.UnionType):
        return next(arg for arg in typing.get_args(annotation) if arg is not type(None))
    return annotation


def expected_type(field_name: str) -> str:
    """What a field accepts, in plain words, e.g. "an integer from 1 to 65535" or "true/false"."""
    info = Settings.model_fields[field_name]
    annotation = _non_none(info.annotation)
    if annotation == FernetKey:
        return "a Fernet key: 32 bytes in url-safe base64, 44 characters"
    if any(getattr(item, "func", None) is _check_base_path for item in info.metadata):
        return "a sub-path such as /orchestrator: a leading /, no trailing /, no ?, #, % or spaces; or empty"
    if typing.get_args(annotation) == (RoleRule, ...):
        return 'a JSON list of {"group": ..., "role": ..., "workspace": ...} objects (workspace optional)'
    if typing.get_origin(annotation) is tuple:
        return "a comma-separated list"
    if typing.get_origin(annotation) is Literal:
        return "one of " + ", ".join(str(choice) for choice in typing.get_args(annotation))
    bounds = {key: getattr(item, key) for item in info.metadata for key in ("ge", "gt", "le") if hasattr(item, key)}
    words = {bool: "true/false", int: "an integer", float: "a number", Path: "a path"}.get(annotation, "text")
    if "ge" in bounds and "le" in bounds:
        return f"{words} from {bounds['ge']} to {bounds['le']}"
    if "ge" in bounds:
        return f"{words} of at least {bounds['ge']}"
    if "gt" in bounds:
        return f"{words} greater than {bounds['gt']}"
    return words


def parse_setting_value(field_name: str, raw: str, *, source: str = "") -> Any:
    """The typed value of `raw` for one field; SettingsError naming the setting, `source` and the expected type."""
    annotation = Settings.model_fields[field_name].annotation
    if raw.strip() == "" and _non_none(annotation) is not annotation:
        return None
    try:
        return _adapter(field_name).validate_python(raw)
    except ValidationError:
        where = f" in {source}" if source else ""
        shown = "the value" if _is_secret(field_name) else repr(raw)
        raise SettingsError(
            f"Invalid value for {env_name(field_name)}{where}: {shown} is not valid "
            f"(expected {expected_type(field_name)})."
        ) from None


def parse_assignment(text: str) -> tuple[str, str]:
    """(BATON_NAME, value) from "NAME=VALUE" after checking the name and the value; SettingsError otherwise."""
    name, separator, raw = text.partition("=")
    if not separator or not name.strip():
        raise SettingsError(f"Expected NAME=VALUE, got {text!r}.")
    field_name = canonical_setting_name(name)
    if field_name == "home":
        raise SettingsError(
            f"{HOME_VARIABLE} cannot be set in a profile, which lives in it; set it in the environment."
        )
    parse_setting_value(field_name, raw)
    return env_name(field_name), raw


def mask_secret(field_name: str, text: str) -> str:
    """`text` as it may be shown: the whole value for a secret, the password for a URL, hidden."""
    if _is_secret(field_name):
        return SECRET_MASK
    if field_name.endswith("_url"):
        return _mask_url_password(text)
    return text


def _is_secret(field_name: str) -> bool:
    info = Settings.model_fields.get(field_name)
    if info is None:
        return False
    annotation = _non_none(info.annotation)
    if typing.get_origin(annotation) is Annotated:
        annotation = typing.get_args(annotation)[0]
    return annotation is SecretStr


def _mask_url_password(url: str) -> str:
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    userinfo, at, host = parts.netloc.rpartition("@")
    if not at or ":" not in userinfo:
        return url
    user = userinfo.split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{user}:{SECRET_MASK}@{host}"))


def _profile_values(name: str, raw_values: Mapping[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key, raw in raw_values.items():
        try:
            field_name = canonical_setting_name(key)
        except SettingsError as exc:
            raise SettingsError(f"Profile {name!r}: {exc.message}") from None
        if field_name == "home":
            raise SettingsError(f"Profile {name!r} sets {HOME_VARIABLE}, which can only come from the environment.")
        text = ("true" if raw else "false") if isinstance(raw, bool) else str(raw)
        values[field_name] = parse_setting_value(field_name, text, source=f"profile {name!r}")
    return values


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Settings from the environment, then the active profile, then defaults; SettingsError naming any bad value."""
    environ = os.environ if environ is None else environ
    home = baton_home(environ)
    profiles = ProfileStore(home).load()
    profile_name = profiles.selected(environ)
    values = _profile_values(profile_name, profiles.get(profile_name, allow_missing_default=True))
    sources: dict[str, Source] = dict.fromkeys(values, "profile")
    for key, raw in environ.items():
        # Unknown BATON_ variables are ignored: other tools may set their own.
        field_name = SETTING_NAMES.get(key)
        if field_name is not None and field_name != "home":
            values[field_name] = parse_setting_value(field_name, raw, source="the environment")
            sources[field_name] = "env"
    values["home"] = home
    sources["home"] = "env" if environ.get(HOME_VARIABLE) else "default"
    settings = Settings(**values)
    settings._sources = sources
    settings._profile_name = profile_name
    return settings


def validate_configuration(environ: Mapping[str, str] | None = None) -> Settings:
    """The loaded settings, after checking every value of every profile; SettingsError on the first problem."""
    environ = os.environ if environ is None else environ
    for name, raw_values in ProfileStore(baton_home(environ)).load().profiles.items():
        _profile_values(name, raw_values)
    return load_settings(environ)
