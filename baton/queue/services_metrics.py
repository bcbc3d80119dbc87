"""The metrics endpoint of `baton server services`: one per command, for all of its worker processes.

Dramatiq runs the actors in several worker processes; each writes its metric values to files in a directory
(prometheus_client's multiprocess mode, switched on by PROMETHEUS_MULTIPROC_DIR before the processes start), and one
more process, forked by Dramatiq's supervisor (`--fork-function`), serves their sum over HTTP. One scrape target per
services command therefore covers every process in it, and a process that restarts does not lose what it counted.
"""

from __future__ import annotations

import logging
import os
import socket
from pathlib import Path

from baton.errors import SettingsError
from baton.settings import Settings, load_settings

logger = logging.getLogger("baton.queue")

#: What `baton server services` passes Dramatiq's `--fork-function` when it serves metrics.
FORK_FUNCTION = "baton.queue.services_metrics:serve_services_metrics"
MULTIPROCESS_DIRECTORY_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"


def check_metrics_address(settings: Settings) -> None:
    """Raise SettingsError when the metrics address cannot be listened on (the port is taken, the host is not this
    machine's): checked before the services start, since Dramatiq only logs a forked process that fails and runs on."""
    host, port = settings.services_metrics_host, settings.services_metrics_port
    try:
        with socket.create_server((host, port)):
            pass
    except OSError as exc:
        raise SettingsError(
            f"Cannot serve the services' metrics on {host}:{port} (BATON_SERVICES_METRICS_HOST, --metrics-port): "
            f"{exc.strerror or exc}. Choose another port, or 0 for none."
        ) from exc


def prepare_multiprocess_directory(settings: Settings) -> Path:
    """The empty directory where the services processes about to start write their metric values: one per port
    under the Baton home (two services commands on one machine serve different ports), emptied of a previous run's
    values so that counters start again from zero, as Prometheus expects of a restarted target."""
    directory = settings.home / "services-metrics" / str(settings.services_metrics_port)
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):
        stale.unlink()
    return directory


def serve_services_metrics() -> int:
    """Serve the summed metrics of the services processes on `services_metrics_host:services_metrics_port` until
    Dramatiq's supervisor stops this process (Dramatiq calls it in a process of its own)."""
    from prometheus_client import CollectorRegistry, start_http_server
    from prometheus_client.multiprocess import MultiProcessCollector

    settings = load_settings()
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=os.environ[MULTIPROCESS_DIRECTORY_VARIABLE])
    server, thread = start_http_server(
        settings.services_metrics_port, settings.services_metrics_host, registry=registry
    )
    logger.info(
        "Serving the services' metrics on http://%s:%d/metrics",
        settings.services_metrics_host,
        settings.services_metrics_port,
    )
    try:
        thread.join()
    finally:
        server.shutdown()
    return 0
