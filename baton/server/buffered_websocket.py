"""A websocket protocol that reads a client's frames out of large socket reads.

Tornado's protocol asks its stream for each part of each frame (header, length, mask, payload): three or four
`read_bytes` calls, each with a future of its own. A Prefect client sends one small frame per event, so on the events
socket that bookkeeping cost more CPU than handling the event. This protocol takes up
to READ_CHUNK bytes from the stream at a time. A frame that is whole in that buffer and of the kind clients send
events in (final, masked, text or binary, no extension bits, at most 64 KiB) is taken out of it in one step; any
other frame, or one only partly received, goes through Tornado's frame parser, which reads its parts from the buffer,
so the frame rules (limits, control frames, fragments, compression) stay Tornado's.

With `before_pong`, a ping is answered only after that coroutine says yes (else the socket closes with 1011): the
events socket uses it to make a pong mean "every event you sent before this ping is in the queue", the checkpoint
after which the Prefect client forgets the events it would otherwise send again on reconnecting.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from tornado.util import _websocket_mask
from tornado.websocket import WebSocketHandler, WebSocketProtocol13, _WebSocketParams

READ_CHUNK = 64 * 1024
# First byte of a final text or binary frame with no extension bits; second byte's mask bit; 16-bit length marker.
_WHOLE_DATA_FRAME = (0x81, 0x82)
_MASKED = 0x80
_LENGTH_16 = 126
_PING = 0x9
# The close code for "the server could not do what it promised" (RFC 6455): the client reconnects and resends.
CLOSE_INTERNAL_ERROR = 1011

BeforePong = Callable[[], Awaitable[bool]]


class BufferedWebSocketProtocol(WebSocketProtocol13):
    def __init__(
        self, handler: Any, mask_outgoing: bool, params: _WebSocketParams, before_pong: BeforePong | None = None
    ) -> None:
        super().__init__(handler, mask_outgoing, params)
        self._received = bytearray()
        self._consumed = 0
        self._before_pong = before_pong

    def _handle_message(self, opcode: int, data: bytes) -> Any:
        if opcode == _PING and self._before_pong is not None and not self.client_terminated:
            # Returned, so the frame loop waits for it before reading the next frame: pongs stay in order.
            return self._pong_when_ready(data)
        return super()._handle_message(opcode, data)

    async def _pong_when_ready(self, data: bytes) -> None:
        assert self._before_pong is not None
        if await self._before_pong():
            super()._handle_message(_PING, data)
        else:
            self.close(CLOSE_INTERNAL_ERROR, "Events could not be queued; send them again.")

    async def _receive_frame(self) -> None:
        frame = self._take_buffered_frame()
        if frame is None:
            await super()._receive_frame()
            return
        handled = self._handle_message(*frame)
        if handled is not None:
            await handled

    def _take_buffered_frame(self) -> tuple[int, bytes] | None:
        """The opcode and unmasked payload of the next frame if it is a whole, plain data frame in the buffer (taken
        out of it); None, taking nothing, for anything Tornado's parser must see."""
        if self._decompressor is not None or self._fragmented_message_buffer is not None:
            return None
        received, start = self._received, self._consumed
        if len(received) - start < 6 or received[start] not in _WHOLE_DATA_FRAME:
            return None
        second = received[start + 1]
        if not second & _MASKED:
            return None
        length, offset = second & 0x7F, start + 2
        if length == _LENGTH_16:
            length, offset = int.from_bytes(received[offset : offset + 2], "big"), offset + 2
        elif length > _LENGTH_16:
            return None
        end = offset + 4 + length
        if end > len(received) or length > self.params.max_message_size:
            return None
        data = _websocket_mask(bytes(received[offset : offset + 4]), bytes(received[offset + 4 : end]))
        self._advance(end)
        self._wire_bytes_in += end - start
        return received[start] & 0x0F, data

    def _advance(self, end: int) -> None:
        """Mark the buffer consumed up to `end`; once all of it is, drop it (an idle socket, and a client's lives as
        long as its process, holds none)."""
        if end == len(self._received):
            self._received, self._consumed = bytearray(), 0
        else:
            self._consumed = end

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
        self._advance(end)
        self._wire_bytes_in += n
        return data


def buffered_protocol(handler: WebSocketHandler, before_pong: BeforePong | None = None) -> WebSocketProtocol13 | None:
    """`handler`'s protocol, as `WebSocketHandler.get_websocket_protocol` makes it, reading through a buffer; pings
    answered after `before_pong` (see the module docstring)."""
    if handler.request.headers.get("Sec-WebSocket-Version") != "13":
        return None
    params = _WebSocketParams(
        ping_interval=handler.ping_interval,
        ping_timeout=handler.ping_timeout,
        max_message_size=handler.max_message_size,
        compression_options=handler.get_compression_options(),
    )
    return BufferedWebSocketProtocol(handler, False, params, before_pong)
