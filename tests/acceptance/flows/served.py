"""Serves the `add` flow as a deployment named "served" (`flow.serve()`), until terminated."""

from __future__ import annotations

from add import add

if __name__ == "__main__":
    add.serve(name="served", parameters={"x": 1, "y": 2})
