"""Canary: every private or undocumented name of a dependency that Baton relies on is still there, and still works
the way Baton's code assumes.

Each check names the dependency's name and the Baton file that relies on it, so that after an upgrade a failure says
what to read and what to fix. pyproject.toml pins these dependencies to the minor version tested here; raise a pin
only with this file passing. A new use of a dependency's private name (`_name`, or an attribute of a private class)
belongs in this list.
"""

from __future__ import annotations

import ast
import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest


@dataclass(frozen=True)
class Reliance:
    """`name` of a dependency, relied on by the Baton file `used_in`; `check` raises AssertionError if it broke."""

    name: str
    used_in: str
    check: Callable[[], None]


def _parameters(function: Callable[..., Any]) -> list[str]:
    return list(inspect.signature(function).parameters)


def _source(obj: Any) -> str:
    return inspect.getsource(obj)


# --- tornado: the buffered websocket frame reader -----------------------------------------------------------------

BUFFERED_WEBSOCKET = "baton/server/buffered_websocket.py"


def _protocol13() -> Any:
    from tornado.websocket import WebSocketProtocol13, _WebSocketParams

    return WebSocketProtocol13(object(), False, _WebSocketParams())  # type: ignore[arg-type]


def _websocket_mask() -> None:
    from tornado.util import _websocket_mask

    assert _websocket_mask(b"\x01\x02\x03\x04", b"abcdef") == bytes(
        byte ^ mask for byte, mask in zip(b"abcdef", b"\x01\x02\x03\x04\x01\x02", strict=True)
    )


def _websocket_params() -> None:
    from tornado.websocket import _WebSocketParams

    params = _WebSocketParams(ping_interval=1.0, ping_timeout=2.0, max_message_size=3, compression_options=None)
    assert (params.ping_interval, params.ping_timeout, params.max_message_size) == (1.0, 2.0, 3)
    assert params.compression_options is None


def _protocol13_init() -> None:
    from tornado.websocket import WebSocketProtocol13

    assert _parameters(WebSocketProtocol13.__init__) == ["self", "handler", "mask_outgoing", "params"]


def _receive_frame() -> None:
    from tornado.websocket import WebSocketProtocol13

    assert inspect.iscoroutinefunction(WebSocketProtocol13._receive_frame)
    # Baton's override only takes effect if the read loop calls it once per frame.
    assert "self._receive_frame()" in _source(WebSocketProtocol13._receive_frame_loop)


def _read_bytes() -> None:
    from tornado.websocket import WebSocketProtocol13

    assert inspect.iscoroutinefunction(WebSocketProtocol13._read_bytes)
    assert _parameters(WebSocketProtocol13._read_bytes) == ["self", "n"]
    # The frame parser reads every part of a frame through it (which Baton's override serves from its buffer), and
    # it counts wire bytes as Baton's override does.
    assert "self._read_bytes(" in _source(WebSocketProtocol13._receive_frame)
    assert "self.stream.read_bytes(" in _source(WebSocketProtocol13._read_bytes)
    assert "self._wire_bytes_in += n" in _source(WebSocketProtocol13._read_bytes)


def _handle_message() -> None:
    from tornado.websocket import WebSocketProtocol13

    assert _parameters(WebSocketProtocol13._handle_message) == ["self", "opcode", "data"]


def _protocol_attribute(name: str, expected: Any) -> Callable[[], None]:
    def check() -> None:
        protocol = _protocol13()
        assert hasattr(protocol, name), f"a new WebSocketProtocol13 has no attribute {name}"
        assert getattr(protocol, name) == expected, f"{name} starts as {getattr(protocol, name)!r}"

    return check


def _stream_attribute() -> None:
    from tornado.websocket import WebSocketProtocol13

    assert "stream" in inspect.get_annotations(WebSocketProtocol13)


def _no_name_clash() -> None:
    protocol = _protocol13()
    for name in ("_received", "_consumed", "_advance", "_take_buffered_frame"):
        assert not hasattr(protocol, name), f"tornado now defines {name}, which BufferedWebSocketProtocol also uses"


def _get_websocket_protocol() -> None:
    from tornado.websocket import WebSocketHandler

    assert _parameters(WebSocketHandler.get_websocket_protocol) == ["self"]
    assert "self.get_websocket_protocol()" in _source(WebSocketHandler.get)


# --- dramatiq: the doorbell consumer, the worker timeout, the stub broker's queues --------------------------------

DOORBELL = "baton/queue/doorbell.py"
BROKER = "baton/queue/broker.py"


def _redis_broker() -> Any:
    from dramatiq.brokers.redis import RedisBroker

    return RedisBroker(url="redis://127.0.0.1:6379/15")  # connects on first use, which these checks never make


def _redis_consumer_class() -> None:
    from dramatiq import Consumer
    from dramatiq.brokers.redis import _RedisConsumer

    assert issubclass(_RedisConsumer, Consumer)
    assert _parameters(_RedisConsumer.__init__) == ["self", "broker", "queue_name", "prefetch", "timeout"]
    for method in ("__next__", "ack", "nack"):
        assert method in vars(_RedisConsumer), f"_RedisConsumer no longer defines {method}"


def _redis_consumer_attributes() -> None:
    from dramatiq.brokers.redis import _RedisConsumer

    broker = _redis_broker()
    consumer = _RedisConsumer(broker, "default", 4, 100)
    assert (consumer.broker, consumer.queue_name, consumer.prefetch, consumer.timeout) == (broker, "default", 4, 100)
    assert consumer.message_cache == [] and consumer.queued_message_ids == set() and consumer.misses == 0
    consumer.message_cache.append(b"x")
    consumer.queued_message_ids.add("id")
    assert consumer.outstanding_message_count == 2


def _consume() -> None:
    from dramatiq.brokers.redis import RedisBroker, _RedisConsumer

    assert _parameters(RedisBroker.consume) == ["self", "queue_name", "prefetch", "timeout"]
    assert isinstance(_redis_broker().consume("default"), _RedisConsumer)


def _do_fetch() -> None:
    broker = _redis_broker()
    assert callable(broker.do_fetch)
    assert b'command == "fetch"' in broker.scripts["dispatch"].script


def _common_helpers() -> None:
    from dramatiq.common import compute_backoff, current_millis

    misses, backoff_ms = compute_backoff(0, max_backoff=100)
    assert misses == 1 and 0 < backoff_ms <= 100
    assert isinstance(current_millis(), int)


def _worker_timeout_variable() -> None:
    import dramatiq.worker

    assert re.search(r"getenv\(\s*[\"']dramatiq_worker_timeout[\"']", _source(dramatiq.worker))
    assert isinstance(dramatiq.worker.WORKER_TIMEOUT, int)


def _stub_broker_queues() -> None:
    import queue

    from dramatiq.brokers.stub import StubBroker

    broker = StubBroker()
    broker.declare_queue("default")
    assert isinstance(broker.queues["default"], queue.Queue)
    assert broker.queues["default"].unfinished_tasks == 0


# --- python-dateutil: rrule schedules read in their time zone -----------------------------------------------------

SCHEDULES = "baton/server/schedules.py"


def _rrule_bounds() -> None:
    import datetime as dt

    from dateutil.rrule import rrulestr

    rule = rrulestr("DTSTART:20240101T090000\nRRULE:FREQ=DAILY;UNTIL=20240103T090000")
    assert rule._dtstart == dt.datetime(2024, 1, 1, 9)
    assert rule._until == dt.datetime(2024, 1, 3, 9)


def _rruleset_parts() -> None:
    import datetime as dt

    from dateutil.rrule import rrule, rrulestr

    text = "DTSTART:20240101T090000\nRRULE:FREQ=DAILY;COUNT=3\nRDATE:20240110T090000\nEXDATE:20240102T090000"
    rules = rrulestr(text, forceset=True)
    assert [type(item) for item in rules._rrule] == [rrule] and rules._exrule == []
    assert rules._rdate == [dt.datetime(2024, 1, 10, 9)] and rules._exdate == [dt.datetime(2024, 1, 2, 9)]
    # Baton replaces these lists; iteration must read them afresh (cache=False here, as before the first walk).
    rules._exdate = []
    rules._rdate = []
    assert list(rules) == [dt.datetime(2024, 1, day, 9) for day in (1, 2, 3)]


RELIANCES = [
    Reliance("tornado.util._websocket_mask", BUFFERED_WEBSOCKET, _websocket_mask),
    Reliance("tornado.websocket._WebSocketParams", BUFFERED_WEBSOCKET, _websocket_params),
    Reliance(
        "tornado.websocket.WebSocketProtocol13.__init__(handler, mask_outgoing, params)",
        BUFFERED_WEBSOCKET,
        _protocol13_init,
    ),
    Reliance("tornado.websocket.WebSocketProtocol13._receive_frame", BUFFERED_WEBSOCKET, _receive_frame),
    Reliance("tornado.websocket.WebSocketProtocol13._read_bytes", BUFFERED_WEBSOCKET, _read_bytes),
    Reliance("tornado.websocket.WebSocketProtocol13._handle_message", BUFFERED_WEBSOCKET, _handle_message),
    Reliance(
        "tornado.websocket.WebSocketProtocol13._decompressor",
        BUFFERED_WEBSOCKET,
        _protocol_attribute("_decompressor", None),
    ),
    Reliance(
        "tornado.websocket.WebSocketProtocol13._fragmented_message_buffer",
        BUFFERED_WEBSOCKET,
        _protocol_attribute("_fragmented_message_buffer", None),
    ),
    Reliance(
        "tornado.websocket.WebSocketProtocol13._wire_bytes_in",
        BUFFERED_WEBSOCKET,
        _protocol_attribute("_wire_bytes_in", 0),
    ),
    Reliance("tornado.websocket.WebSocketProtocol13.stream", BUFFERED_WEBSOCKET, _stream_attribute),
    Reliance(
        "tornado.websocket.WebSocketProtocol13 (no _received, _consumed, _advance, _take_buffered_frame)",
        BUFFERED_WEBSOCKET,
        _no_name_clash,
    ),
    Reliance(
        "tornado.websocket.WebSocketHandler.get_websocket_protocol",
        "baton/server/api/events_in.py",
        _get_websocket_protocol,
    ),
    Reliance("dramatiq.brokers.redis._RedisConsumer (__init__, __next__, ack, nack)", DOORBELL, _redis_consumer_class),
    Reliance(
        "dramatiq.brokers.redis._RedisConsumer attributes (broker, queue_name, prefetch, timeout, "
        "message_cache, queued_message_ids, misses, outstanding_message_count)",
        DOORBELL,
        _redis_consumer_attributes,
    ),
    Reliance("dramatiq.brokers.redis.RedisBroker.consume -> _RedisConsumer", BROKER, _consume),
    Reliance("dramatiq.brokers.redis.RedisBroker.do_fetch (Lua dispatch command)", DOORBELL, _do_fetch),
    Reliance("dramatiq.common.compute_backoff, current_millis", DOORBELL, _common_helpers),
    Reliance(
        "environment variable dramatiq_worker_timeout (dramatiq.worker)",
        "baton/cli/server.py",
        _worker_timeout_variable,
    ),
    Reliance(
        "dramatiq.brokers.stub.StubBroker.queues[name].unfinished_tasks", "baton/actors/setup.py", _stub_broker_queues
    ),
    Reliance("dateutil.rrule.rrule._dtstart, _until", SCHEDULES, _rrule_bounds),
    Reliance("dateutil.rrule.rruleset._rrule, _exrule, _rdate, _exdate", SCHEDULES, _rruleset_parts),
]


@pytest.mark.parametrize("reliance", RELIANCES, ids=[reliance.name for reliance in RELIANCES])
def test_dependency_internal_is_still_there(reliance: Reliance) -> None:
    try:
        reliance.check()
    except (AssertionError, AttributeError, ImportError, TypeError, ValueError, KeyError) as exc:
        problem = f"{type(exc).__name__}: {exc}"
    else:
        return
    pytest.fail(
        f"{reliance.name}, which {reliance.used_in} relies on, is gone or changed after a dependency upgrade: "
        f"{problem}. Fix {reliance.used_in} for the new version (or keep the pin in pyproject.toml).",
        pytrace=False,
    )


def test_every_private_import_from_a_dependency_is_listed() -> None:
    """A guard for this list itself: `from tornado.util import _websocket_mask` anywhere in baton/ needs a Reliance."""
    package = Path(__file__).parents[1] / "baton"
    unlisted = []
    for path in sorted(package.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(node, ast.ImportFrom) or not node.module or node.level:
                continue
            if node.module.split(".")[0] in ("baton", "__future__"):
                continue
            for alias in node.names:
                private_module = any(part.startswith("_") for part in node.module.split("."))
                if alias.name.startswith("_") or private_module:
                    name = f"{node.module}.{alias.name}"
                    if not any(reliance.name.startswith(name) for reliance in RELIANCES):
                        unlisted.append(f"{name} ({path.relative_to(package.parent)})")
    assert not unlisted, f"private names imported from dependencies without a check in RELIANCES: {unlisted}"
