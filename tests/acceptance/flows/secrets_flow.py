"""Saves two Secret blocks (a string, overwritten once, and a JSON object), then runs a flow that loads them with
`Secret.load` and asserts their values inside the run; its result is what it loaded."""

from __future__ import annotations

import json
from typing import Any, cast

from prefect import flow
from prefect.blocks.system import Secret

API_KEY = "sk-baton-1234"
CREDENTIALS = {"username": "baton", "password": "s3cr3t", "port": 5432}


def save_secret(name: str, value: Any, *, overwrite: bool = False) -> None:
    # Prefect's documented call: the field is typed as the wrapped secret, its validator wraps a plain value.
    Secret(value=value).save(name, overwrite=overwrite)  # type: ignore[arg-type]


def load_secret(name: str) -> Any:
    # `Secret.load` is async_dispatch, typed as possibly a coroutine; outside an event loop it returns the block.
    return cast(Secret[Any], Secret.load(name)).get()


@flow
def use_secrets() -> dict[str, Any]:
    api_key = load_secret("baton-api-key")
    credentials = load_secret("baton-credentials")
    assert api_key == API_KEY, f"Secret.load returned {api_key!r}"
    assert credentials == CREDENTIALS, f"Secret.load returned {credentials!r}"
    return {"api_key": api_key, "credentials": credentials}


if __name__ == "__main__":
    save_secret("baton-api-key", "first-draft")
    try:
        save_secret("baton-api-key", "must not be written")
        refused = False
    except ValueError:
        refused = True
    save_secret("baton-api-key", API_KEY, overwrite=True)
    save_secret("baton-credentials", CREDENTIALS)
    state = use_secrets(return_state=True)
    result = {**state.result(), "refused_without_overwrite": refused}
    print(json.dumps({"flow_run_id": str(state.state_details.flow_run_id), "result": result}))
