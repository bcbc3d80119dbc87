"""Redis for tests: the server every test uses, and a namespace of keys per test that is deleted after it."""

from __future__ import annotations

import os
import uuid

import redis

REDIS_URL = os.environ.get("BATON_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def new_namespace() -> str:
    """A key prefix no other test (or test run sharing the Redis) uses."""
    return f"baton-test-{uuid.uuid4().hex[:12]}"


def delete_namespace(namespace: str) -> None:
    """Delete every key under `namespace`."""
    with redis.Redis.from_url(REDIS_URL) as client:
        keys = list(client.scan_iter(match=f"{namespace}*", count=1000))
        if keys:
            client.delete(*keys)
