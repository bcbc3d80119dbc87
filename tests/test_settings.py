"""Settings: defaults, precedence, parsing errors, display, and the profiles file they read."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from pydantic import SecretStr

from baton.errors import ProfileError, SettingsError
from baton.profiles import ProfileStore
from baton.settings import (
    SETTING_NAMES,
    Settings,
    canonical_setting_name,
    load_settings,
    parse_assignment,
    parse_setting_value,
    validate_configuration,
)


def test_defaults_and_the_sqlite_url_derived_from_home(tmp_path: Path) -> None:
    settings = load_settings({"BATON_HOME": str(tmp_path)})
    assert settings.home == tmp_path
    assert settings.api_url is None
    assert settings.server_api_port == 4200
    assert settings.logging_level == "INFO"
    assert settings.api_database_connection_url == f"sqlite+aiosqlite:///{tmp_path / 'baton.db'}"
    assert settings.source_of("api_database_connection_url") == "default"
    assert settings.source_of("server_api_port") == "default"
    assert settings.source_of("home") == "env"
    assert settings.profile_name == "default"
    assert set(SETTING_NAMES.values()) == set(Settings.model_fields)
    assert all(info.description for info in Settings.model_fields.values())


def test_constructor_values_count_as_explicit(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, api_database_connection_url="sqlite+aiosqlite:///:memory:")
    assert settings.api_database_connection_url == "sqlite+aiosqlite:///:memory:"
    assert settings.source_of("api_database_connection_url") == "env"
    assert settings.source_of("redis_url") == "default"
    with pytest.raises(ValueError):
        Settings(home=tmp_path, not_a_setting=1)  # type: ignore[call-arg]


def test_environment_beats_profile_beats_default(tmp_path: Path) -> None:
    store = ProfileStore(tmp_path)
    store.set_values("default", {"BATON_SERVER_API_PORT": "5000", "BATON_LOGGING_LEVEL": "debug"})
    environ = {"BATON_HOME": str(tmp_path), "BATON_SERVER_API_PORT": "6000", "BATON_UNKNOWN_THING": "ignored"}
    settings = load_settings(environ)
    assert settings.server_api_port == 6000
    assert settings.source_of("server_api_port") == "env"
    assert settings.logging_level == "DEBUG"
    assert settings.source_of("logging_level") == "profile"
    assert settings.redis_namespace == "baton"
    assert settings.source_of("redis_namespace") == "default"
    assert settings.display_values(include_defaults=False) == {
        "BATON_HOME": str(tmp_path),
        "BATON_SERVER_API_PORT": 6000,
        "BATON_LOGGING_LEVEL": "DEBUG",
    }


def test_baton_profile_selects_another_profile(tmp_path: Path) -> None:
    store = ProfileStore(tmp_path)
    store.create("staging")
    store.set_values("staging", {"BATON_API_URL": "http://staging:4200/api"})
    assert load_settings({"BATON_HOME": str(tmp_path)}).api_url is None
    settings = load_settings({"BATON_HOME": str(tmp_path), "BATON_PROFILE": "staging"})
    assert settings.api_url == "http://staging:4200/api"
    assert settings.profile_name == "staging"
    with pytest.raises(ProfileError, match="Profile 'nope' does not exist. Available profiles: default, staging"):
        load_settings({"BATON_HOME": str(tmp_path), "BATON_PROFILE": "nope"})


def test_unknown_names_suggest_the_closest_setting() -> None:
    assert canonical_setting_name("BATON_API_URL") == "api_url"
    assert canonical_setting_name("api_url") == "api_url"
    assert canonical_setting_name("baton_api_url") == "api_url"
    with pytest.raises(SettingsError, match=r"Unknown setting 'BATON_API_ULR'\. Did you mean: BATON_API_URL\b"):
        canonical_setting_name("BATON_API_ULR")
    with pytest.raises(SettingsError, match="Run `baton config view --show-defaults` to see every setting."):
        canonical_setting_name("zzz")


def test_bad_values_name_the_setting_and_the_expected_type(tmp_path: Path) -> None:
    assert parse_setting_value("server_api_port", "8080") == 8080
    assert parse_setting_value("api_database_echo", "yes") is True
    assert parse_setting_value("api_database_echo", "0") is False
    assert parse_setting_value("logging_level", "warning") == "WARNING"
    assert parse_setting_value("redis_url", "") is None
    with pytest.raises(SettingsError, match=r"Invalid value for BATON_SERVER_API_PORT: 'abc' .*an integer from 1"):
        parse_setting_value("server_api_port", "abc")
    with pytest.raises(SettingsError, match=r"BATON_API_DATABASE_ECHO: 'maybe' .*true/false"):
        parse_setting_value("api_database_echo", "maybe")
    with pytest.raises(SettingsError, match=r"BATON_LOGGING_LEVEL: 'loud' .*one of DEBUG, INFO, WARNING"):
        parse_setting_value("logging_level", "loud")
    with pytest.raises(SettingsError, match=r"Expected NAME=VALUE, got 'oops'"):
        parse_assignment("oops")
    with pytest.raises(SettingsError, match="in the environment"):
        load_settings({"BATON_HOME": str(tmp_path), "BATON_API_DATABASE_TIMEOUT": "soon"})
    ProfileStore(tmp_path).set_values("default", {"BATON_SERVER_API_PROT": "1"})
    with pytest.raises(SettingsError, match="Profile 'default': Unknown setting .*BATON_SERVER_API_PORT"):
        load_settings({"BATON_HOME": str(tmp_path)})


def test_validate_checks_profiles_that_are_not_active(tmp_path: Path) -> None:
    store = ProfileStore(tmp_path)
    store.create("broken")
    assert validate_configuration({"BATON_HOME": str(tmp_path)}).profile_name == "default"
    store.set_values("broken", {"BATON_SERVER_API_PORT": "70000"})
    with pytest.raises(SettingsError, match="BATON_SERVER_API_PORT in profile 'broken': '70000'"):
        validate_configuration({"BATON_HOME": str(tmp_path)})


# 32 bytes, url-safe base64: the shape of a Fernet key.
FERNET_KEY = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="


def test_display_values_mask_passwords_and_secrets(tmp_path: Path) -> None:
    settings = Settings(
        home=tmp_path,
        api_database_connection_url="postgresql+asyncpg://baton:hunter2@db.local:5432/baton",
        server_encryption_key=SecretStr(FERNET_KEY),
    )
    hidden = settings.display_values()
    assert hidden["BATON_API_DATABASE_CONNECTION_URL"] == "postgresql+asyncpg://baton:********@db.local:5432/baton"
    assert hidden["BATON_SERVER_ENCRYPTION_KEY"] == "********"
    assert hidden["BATON_HOME"] == str(tmp_path)
    assert hidden["BATON_SERVER_API_PORT"] == 4200
    shown = settings.display_values(show_secrets=True)
    assert shown["BATON_API_DATABASE_CONNECTION_URL"].endswith("baton:hunter2@db.local:5432/baton")
    assert shown["BATON_SERVER_ENCRYPTION_KEY"] == FERNET_KEY


def test_profile_store_round_trip(tmp_path: Path) -> None:
    store = ProfileStore(tmp_path)
    assert store.load().profiles == {"default": {}}
    assert not store.path.exists()
    store.create("dev")
    with pytest.raises(ProfileError, match="Profile 'dev' already exists."):
        store.create("dev")
    with pytest.raises(ProfileError, match="Invalid profile name"):
        store.create("no spaces")
    store.set_values("dev", {"BATON_API_URL": "http://dev/api", "BATON_REDIS_NAMESPACE": "dev"})
    store.create("copy", copy_from="dev")
    store.use("dev")
    with pytest.raises(ProfileError, match="Available profiles: copy, default, dev"):
        store.use("missing")
    store.rename("dev", "development")
    with pytest.raises(ProfileError, match="active profile .* baton profile use"):
        store.delete("development")
    store.unset_values("development", ["BATON_REDIS_NAMESPACE"])
    with pytest.raises(ProfileError, match="BATON_REDIS_NAMESPACE is not set in profile 'development'"):
        store.unset_values("development", ["BATON_REDIS_NAMESPACE"])
    store.delete("default")

    on_disk = tomllib.loads(store.path.read_text())
    assert on_disk == {
        "active": "development",
        "profiles": {
            "development": {"BATON_API_URL": "http://dev/api"},
            "copy": {"BATON_API_URL": "http://dev/api", "BATON_REDIS_NAMESPACE": "dev"},
        },
    }
    assert [path.name for path in tmp_path.iterdir()] == ["profiles.toml"]
    assert load_settings({"BATON_HOME": str(tmp_path)}).api_url == "http://dev/api"
