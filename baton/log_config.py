"""Logging set-up for Baton's processes."""

from __future__ import annotations

import logging
import sys


def configure_logging(level: str) -> None:
    """Log Baton's messages at `level` to stderr; third-party libraries only from WARNING up."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%H:%M:%S"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
    logging.getLogger("baton").setLevel(level.upper())
    # Tornado logs every request at INFO; only show them when debugging.
    logging.getLogger("tornado.access").setLevel(logging.INFO if level.upper() == "DEBUG" else logging.WARNING)
