from __future__ import annotations

from baton.cli.main import cli

cli()
