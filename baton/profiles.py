"""Named groups of settings in `<home>/profiles.toml`, one of them active.

The file holds `active = "NAME"` and one table `[profiles.NAME]` per profile, whose keys are environment names
(`BATON_API_URL = "..."`) and whose values are strings. A missing file reads as one empty "default" profile.
Every change rewrites the whole file atomically, so a crash never leaves half a file behind.
"""

from __future__ import annotations

import os
import re
import tempfile
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli_w

from baton.errors import ProfileError

DEFAULT_PROFILE = "default"
PROFILES_FILE = "profiles.toml"
PROFILE_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")


@dataclass
class Profiles:
    """The content of profiles.toml: the active profile's name and each profile's values by environment name."""

    active: str = DEFAULT_PROFILE
    profiles: dict[str, dict[str, Any]] = field(default_factory=lambda: {DEFAULT_PROFILE: {}})

    def selected(self, environ: Mapping[str, str]) -> str:
        """The profile in use: BATON_PROFILE from the environment if set, else the file's active profile."""
        return environ.get("BATON_PROFILE") or self.active

    def get(self, name: str, *, allow_missing_default: bool = False) -> dict[str, Any]:
        """The values of profile `name`; ProfileError listing the profiles there are if it does not exist."""
        if name in self.profiles:
            return self.profiles[name]
        if allow_missing_default and name == DEFAULT_PROFILE:
            return {}
        raise ProfileError(f"Profile {name!r} does not exist. Available profiles: {', '.join(sorted(self.profiles))}.")


def check_profile_name(name: str) -> str:
    """`name` if it is 1 to 64 letters, digits, '-' or '_'; ProfileError otherwise."""
    if not PROFILE_NAME.fullmatch(name):
        raise ProfileError(f"Invalid profile name {name!r}: use 1 to 64 letters, digits, '-' or '_'.")
    return name


class ProfileStore:
    """Reads and changes the profiles file of one Baton home; each operation loads, changes and saves the file."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.path = home / PROFILES_FILE

    def load(self) -> Profiles:
        """The profiles in the file, or one empty "default" profile if there is no file; ProfileError if unreadable."""
        try:
            data = tomllib.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return Profiles()
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ProfileError(f"Cannot read {self.path}: {exc}") from None
        active = data.get("active", DEFAULT_PROFILE)
        tables = data.get("profiles", {})
        if not isinstance(active, str) or not isinstance(tables, dict):
            raise ProfileError(f'Cannot read {self.path}: expected `active = "NAME"` and [profiles.NAME] tables.')
        profiles: dict[str, dict[str, Any]] = {}
        for name, values in tables.items():
            if not isinstance(values, dict):
                raise ProfileError(f"Cannot read {self.path}: profiles.{name} is not a table.")
            profiles[name] = dict(values)
        return Profiles(active=active, profiles=profiles)

    def save(self, profiles: Profiles) -> None:
        """Write `profiles` to the file atomically: to a temporary file in the same folder, then renamed over it."""
        self.home.mkdir(parents=True, exist_ok=True)
        text = tomli_w.dumps({"active": profiles.active, "profiles": profiles.profiles})
        descriptor, temporary = tempfile.mkstemp(prefix=".profiles-", suffix=".toml", dir=self.home)
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
                stream.write(text)
                stream.flush()
                os.fsync(stream.fileno())
            os.replace(temporary, self.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def create(self, name: str, copy_from: str | None = None) -> None:
        """Add an empty profile, or a copy of `copy_from`; ProfileError if it exists or the name is invalid."""
        profiles = self.load()
        check_profile_name(name)
        if name in profiles.profiles:
            raise ProfileError(f"Profile {name!r} already exists.")
        values = profiles.get(copy_from) if copy_from is not None else {}
        profiles.profiles[name] = dict(values)
        self.save(profiles)

    def use(self, name: str) -> None:
        """Make `name` the active profile; ProfileError if it does not exist."""
        profiles = self.load()
        profiles.get(name)
        profiles.active = name
        self.save(profiles)

    def delete(self, name: str) -> None:
        """Remove profile `name`; ProfileError if it does not exist or is the active one."""
        profiles = self.load()
        profiles.get(name)
        if name == profiles.active:
            raise ProfileError(
                f"Profile {name!r} is the active profile and cannot be deleted. "
                "Switch to another first with: baton profile use NAME"
            )
        del profiles.profiles[name]
        self.save(profiles)

    def rename(self, old: str, new: str) -> None:
        """Rename a profile, keeping it active if it was; ProfileError if `old` is missing or `new` is taken."""
        profiles = self.load()
        profiles.get(old)
        check_profile_name(new)
        if new in profiles.profiles:
            raise ProfileError(f"Profile {new!r} already exists.")
        profiles.profiles = {new if name == old else name: items for name, items in profiles.profiles.items()}
        if profiles.active == old:
            profiles.active = new
        self.save(profiles)

    def set_values(self, profile: str, values: Mapping[str, str]) -> None:
        """Store `values` (environment name -> text) in `profile`, creating "default" if it is missing."""
        profiles = self.load()
        if profile == DEFAULT_PROFILE:
            profiles.profiles.setdefault(profile, {})
        profiles.get(profile).update(values)
        self.save(profiles)

    def unset_values(self, profile: str, names: Iterable[str]) -> None:
        """Remove settings from `profile`; ProfileError, before any change, if one of them is not set there."""
        profiles = self.load()
        values = profiles.get(profile, allow_missing_default=True)
        names = list(names)
        missing = [name for name in names if name not in values]
        if missing:
            raise ProfileError(f"{', '.join(missing)} is not set in profile {profile!r}.")
        for name in names:
            del values[name]
        self.save(profiles)
