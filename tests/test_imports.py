"""Importing Baton has no side effects: importing every module reads no settings, sets no Dramatiq broker and opens
no thread or socket."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

# Run, not imported: `python -m baton` is the CLI itself, and Alembic runs env.py inside a migration context.
NOT_IMPORTABLE = ("baton.__main__", "baton.migrations.env")

# Imports every baton module in a fresh interpreter, with load_settings refusing to run, and prints what it saw.
IMPORT_EVERYTHING = """
import importlib, json, pkgutil, socket, sys, threading, traceback

sockets = []
socket_init = socket.socket.__init__


def recording_socket_init(self, *args, **kwargs):
    sockets.append(repr(args))
    socket_init(self, *args, **kwargs)


socket.socket.__init__ = recording_socket_init
threads_before = threading.active_count()

import baton.settings

settings_loads = []


def refused_load_settings(*args, **kwargs):
    settings_loads.append("".join(traceback.format_stack(limit=8)))
    raise RuntimeError("load_settings() was called while importing")


baton.settings.load_settings = refused_load_settings

failures = {}


def failed(name):
    failures[name] = traceback.format_exc(limit=-3)


skipped = set(sys.argv[1:])
modules = [module.name for module in pkgutil.walk_packages(baton.__path__, "baton.", onerror=failed)]
for name in modules:
    if name in skipped:
        continue
    try:
        importlib.import_module(name)
    except Exception:
        failed(name)

import dramatiq.asyncio
import dramatiq.broker

print(json.dumps({
    "modules": len(modules),
    "failures": failures,
    "settings_loads": settings_loads,
    "global_broker": repr(dramatiq.broker.global_broker),
    "event_loop_thread": repr(dramatiq.asyncio.get_event_loop_thread()),
    "threads": [thread.name for thread in threading.enumerate()][threads_before:],
    "thread_count_change": threading.active_count() - threads_before,
    "sockets": sockets,
}))
"""


def poisoned_environment(tmp_path: Path) -> dict[str, str]:
    """The environment minus Baton's settings, plus settings that fail when read: an unknown database scheme, a
    Redis host that does not resolve, and profile files (in BATON_HOME and under HOME) that are not TOML."""
    home = tmp_path / "home"
    baton_home = tmp_path / "baton-home"
    for folder in (home / ".baton", baton_home):
        folder.mkdir(parents=True)
        (folder / "profiles.toml").write_text("this is [not TOML\n")
    env = {key: value for key, value in os.environ.items() if not key.startswith("BATON_")}
    return {
        **env,
        "HOME": str(home),
        "BATON_HOME": str(baton_home),
        "BATON_PROFILE": "no-such-profile",
        "BATON_API_DATABASE_CONNECTION_URL": "nosuchdialect://nowhere/baton",
        "BATON_REDIS_URL": "redis://no-such-host.invalid:1/0",
        "BATON_LOGGING_LEVEL": "NOT-A-LEVEL",
    }


def test_importing_every_module_reads_no_settings_and_opens_nothing(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", IMPORT_EVERYTHING, *NOT_IMPORTABLE],
        env=poisoned_environment(tmp_path),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["modules"] > 100  # every module was found, not just the top package
    assert seen["failures"] == {}
    assert seen["settings_loads"] == []
    assert seen["global_broker"] == "None"
    assert seen["event_loop_thread"] == "None"
    assert seen["threads"] == [] and seen["thread_count_change"] == 0
    assert seen["sockets"] == []
