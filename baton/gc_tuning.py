"""Garbage-collector settings for Baton's long-running processes (the API server and the services workers).

Both processes turn JSON into many short-lived containers (an event batch holds tens of thousands of dicts and
lists). With CPython's defaults a young collection runs every 700 allocations and the older generations, which hold
the many objects of the imported libraries, are walked again and again: decoding a batch took several times longer
per event with the defaults than with the settings below.

`gc.freeze()` moves everything alive at start-up (modules, classes, SQLAlchemy metadata) to a generation the
collector never scans; the larger first threshold lets the young generation fill before it is collected. Reference
counting frees almost everything anyway: the collector only matters for cycles, which are rare on these paths.
"""

from __future__ import annotations

import gc

YOUNG_GENERATION_THRESHOLD = 10_000


def tune_garbage_collector() -> None:
    """Freeze the objects alive now and collect the young generation less often; call once start-up is done."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_GENERATION_THRESHOLD, middle, old)
