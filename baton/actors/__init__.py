"""Baton's Dramatiq actors.

Importing this package, or any module in it, reads no settings, builds no broker and connects to nothing. The actors
are declared on a broker built by an explicit function: `services_broker` below for `baton server services`, and
`setup.EmbeddedServices` inside the API server when there is no Redis.
"""

from __future__ import annotations

import dramatiq


def services_broker() -> dramatiq.Broker:
    """Dramatiq's entry point: `dramatiq baton.actors:services_broker` (what `baton server services` runs) calls it in
    each worker process. It loads the settings, builds the services broker (`setup.make_services_broker`) and makes
    it Dramatiq's global broker, which is where Dramatiq's command line reads it from; returns it too."""
    from baton.actors.setup import make_services_broker
    from baton.settings import load_settings

    broker = make_services_broker(load_settings())
    dramatiq.set_broker(broker)
    return broker
