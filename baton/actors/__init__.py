"""Baton's Dramatiq actors.

`dramatiq baton.actors` (which is what `baton server services` runs) imports this package, which sets Dramatiq's
global broker from the settings with every actor declared on it. Importing it connects to nothing. The API server
builds brokers of its own (see `setup.EmbeddedServices` and `baton.server.serve`).
"""

from __future__ import annotations

from baton.actors.setup import configure
from baton.settings import load_settings

broker = configure(load_settings())
