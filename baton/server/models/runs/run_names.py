"""Generated run names: two words, adjective and animal, like `upbeat-pigeon` (what the Prefect UI shows)."""

from __future__ import annotations

# Words a generated name must never contain (the same spirit as Prefect's deny-list).
DENIED_WORDS = frozenset(
    {
        "sexy",
        "demonic",
        "kickass",
        "hot",
        "fat",
        "gay",
        "juicy",
        "racist",
        "nasty",
        "naughty",
        "busty",
        "beaver",
        "slut",
        "slutty",
        "crazy",
        "insane",
        "wild",
        "thick",
    }
)


def generate_run_name() -> str:
    """A random lowercase `adjective-noun` name with no denied word. coolname is imported here, on the first run
    created: it builds its word lists when imported."""
    import coolname

    while True:
        words = coolname.generate(2)
        if not DENIED_WORDS.intersection(words):
            return "-".join(words)
