"""Serves two deployments until terminated: `chatty/watched` (logs two lines, completes) and `doomed/watched`
(fails), for the `--watch` tests."""

from __future__ import annotations

from doomed import doomed
from logging_flow import chatty
from prefect import serve

if __name__ == "__main__":
    serve(chatty.to_deployment(name="watched"), doomed.to_deployment(name="watched"))
