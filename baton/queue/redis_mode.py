"""Questions about Redis asked without importing it. An embedded server (no `BATON_REDIS_URL`) never loads redis,
Dramatiq's Redis broker or their dependencies (tests/queue/test_redis_mode.py checks it): while those modules are not
loaded, no broker can be a Redis one and no Redis call can have raised."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, TypeGuard

if TYPE_CHECKING:
    from dramatiq.brokers.redis import RedisBroker


def is_redis_broker(broker: Any) -> TypeGuard[RedisBroker]:
    """Whether `broker` is Dramatiq's Redis broker (or Baton's subclass of it)."""
    module = sys.modules.get("dramatiq.brokers.redis")
    return module is not None and isinstance(broker, module.RedisBroker)


def redis_errors(*others: type[BaseException]) -> tuple[type[BaseException], ...]:
    """`others` and the base class of redis's errors, for an `except` clause; only `others` while redis is not
    loaded."""
    module = sys.modules.get("redis")
    return (module.RedisError, *others) if module is not None else others
