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
    quiet_http_client_loggers()


def quiet_http_client_loggers() -> None:
    """httpx logs every request at INFO: one line per notification sent, and a share of a delivery's CPU in a
    services process, whose logging Dramatiq's command line sets up at INFO for every library."""
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)
