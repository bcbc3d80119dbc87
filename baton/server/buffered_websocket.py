"""A websocket protocol that reads a client's frames out of large socket reads.

Tornado's protocol asks its stream for each part of each frame (header, length, mask, payload): three or four
`read_bytes` calls, each with a future of its own. A Prefect client sends one small frame per event, so on the events
socket that bookkeeping cost more CPU than handling the event (benchmarks/events_ingest.py). This protocol takes up
to READ_CHUNK bytes from the stream at a time and hands Tornado's frame parser the parts from that buffer; the frame
rules (limits, control frames, fragments, compression) stay Tornado's.
"""

from __future__ import annotations

from typing import Any

from tornado.websocket import WebSocketHandler, WebSocketProtocol13, _WebSocketParams

READ_CHUNK = 64 * 1024


class BufferedWebSocketProtocol(WebSocketProtocol13):
    def __init__(self, handler: Any, mask_outgoing: bool, params: _WebSocketParams) -> None:
        super().__init__(handler, mask_outgoing, params)
        self._received = bytearray()
        self._consumed = 0

    async def _read_bytes(self, n: int) -> bytes:
        """The next `n` bytes from the client (Tornado's frame parser calls this for each part of a frame)."""
        start = self._consumed
        while len(self._received) - start < n:
            chunk = await self.stream.read_bytes(READ_CHUNK, partial=True)
            del self._received[:start]
            self._received += chunk
            start = 0
        end = start + n
        data = bytes(self._received[start:end])
        if end == len(self._received):
            # All taken: drop the buffer, so that an idle socket (a client's lives as long as its process) holds none.
            self._received, self._consumed = bytearray(), 0
        else:
            self._consumed = end
        self._wire_bytes_in += n
        return data


def buffered_protocol(handler: WebSocketHandler) -> WebSocketProtocol13 | None:
    """`handler`'s protocol, as `WebSocketHandler.get_websocket_protocol` makes it, reading through a buffer."""
    if handler.request.headers.get("Sec-WebSocket-Version") != "13":
        return None
    params = _WebSocketParams(
        ping_interval=handler.ping_interval,
        ping_timeout=handler.ping_timeout,
        max_message_size=handler.max_message_size,
        compression_options=handler.get_compression_options(),
    )
    return BufferedWebSocketProtocol(handler, False, params)
