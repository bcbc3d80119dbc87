"""The websocket `/task_runs/subscriptions/scheduled`: background task runs handed to the task workers subscribed
to their task keys (`prefect task serve`, `TaskWorker`).

The conversation follows Prefect's server, which the official client (`prefect.client.subscriptions.Subscription`)
expects:

1. With the subprotocol `prefect`, the client first sends `{"type": "auth", "token": ...}` and the server answers
   `{"type": "auth_success"}` (as on `/events/out`: with authentication on, the token is an API key or
   'name:password'; with it off any token is accepted). Without the subprotocol (legacy clients) the upgrade request
   itself must carry the credential.
2. The client sends `{"type": "subscribe", "keys": [task keys], "client_id": "..."}`; a message without `keys` or
   `client_id` closes the socket with 4001, as Prefect does.
3. The server sends one scheduled task run (the TaskRun JSON) at a time and waits for `{"type": "ack"}` before the
   next; `{"type": "quit"}` ends the subscription. A run whose ack never came (the worker went away) is served again
   to the next subscriber, ahead of newer runs: delivery is at least once.

While subscribed, the worker is listed by `POST /task_workers/filter`.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import tornado.websocket

from baton.queue.background_tasks import Delivery
from baton.server.api.prefect_sockets import CLOSE_INTERNAL_ERROR, PrefectSocket, json_object
from baton.server.buffered_websocket import buffered_protocol
from baton.server.context import ServerContext

logger = logging.getLogger("baton.api.task_run_subscriptions")

# Prefect's code for a subscriber that breaks the protocol.
CLOSE_PROTOCOL_VIOLATION = 4001
# How long a subscriber waits for a run before the server looks again whether it is still connected and re-marks
# the worker as seen (Prefect's server uses one second as well).
TAKE_TIMEOUT_SECONDS = 1.0
# While waiting for an ack, renew the run's in-flight mark this often (`TaskQueue.keep_in_flight`).
ACK_RENEW_SECONDS = 10.0


class TaskRunSubscriptionHandler(PrefectSocket):
    """One task worker's subscription to the scheduled runs of its task keys."""

    permission = "task_run:write"

    def initialize(self, context: ServerContext) -> None:
        super().initialize(context)
        self._awaiting = "subscribe"
        self._messages: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        self._pump: asyncio.Task[None] | None = None

    def get_websocket_protocol(self) -> tornado.websocket.WebSocketProtocol13 | None:
        return buffered_protocol(self)

    def open(self, *args: Any, **kwargs: Any) -> None:
        self.set_nodelay(True)
        super().open(*args, **kwargs)

    def on_client_message(self, message: str | bytes) -> None:
        data = json_object(message)
        if self._awaiting == "subscribe":
            self._on_subscribe(data)
        else:
            self._messages.put_nowait(data if data is not None else {})

    def on_close(self) -> None:
        # The pump is not cancelled: it could be taking a run from the queue right now. It sees the socket closed at
        # its next take (within TAKE_TIMEOUT_SECONDS) or when writing a run, which then goes back to the queue.
        self._messages.put_nowait(None)

    def _on_subscribe(self, data: dict[str, Any] | None) -> None:
        if data is None or data.get("type") != "subscribe":
            self.refuse(CLOSE_PROTOCOL_VIOLATION, "Protocol violation: expected 'subscribe' message")
            return
        keys = data.get("keys")
        if not keys or not isinstance(keys, list) or not all(isinstance(key, str) for key in keys):
            self.refuse(CLOSE_PROTOCOL_VIOLATION, "Protocol violation: expected 'keys' in subscribe message")
            return
        client_id = data.get("client_id")
        if not client_id or not isinstance(client_id, str):
            self.refuse(CLOSE_PROTOCOL_VIOLATION, "Protocol violation: expected 'client_id' in subscribe message")
            return
        self._awaiting = "nothing"
        logger.info("Task worker %r subscribed to task keys %r", client_id, keys)
        self._pump = asyncio.create_task(self._serve(keys, client_id))

    async def _serve(self, keys: list[str], client_id: str) -> None:
        queue = self.context.task_queue
        try:
            while self.ws_connection is not None:
                await queue.observe_worker(client_id, keys)
                delivery = await queue.take(keys, TAKE_TIMEOUT_SECONDS)
                if delivery is not None and not await self._hand_over(delivery):
                    return
        except asyncio.CancelledError:
            pass
        except Exception:
            logger.exception("Serving background task runs to task worker %r failed.", client_id)
            self.refuse(CLOSE_INTERNAL_ERROR, "Internal server error.")
        finally:
            await asyncio.shield(queue.forget_worker(client_id))

    async def _hand_over(self, delivery: Delivery) -> bool:
        """Send `delivery` and wait for its ack; True to go on with the next run. Whatever happens before the ack
        (the socket closes, the client quits or breaks the protocol, the server stops), the run is served again."""
        queue = self.context.task_queue
        self._awaiting = "ack"
        acked = False
        try:
            await self.write_message(delivery.payload.decode())
            while True:
                try:
                    answer = await asyncio.wait_for(self._messages.get(), ACK_RENEW_SECONDS)
                except TimeoutError:
                    await queue.keep_in_flight(delivery)
                    continue
                if answer is None:
                    return False
                if answer.get("type") == "ack":
                    acked = True
                    return True
                if answer.get("type") == "quit":
                    self.close()
                    return False
                self.refuse(CLOSE_PROTOCOL_VIOLATION, "Protocol violation: expected 'ack' message")
                return False
        except tornado.websocket.WebSocketClosedError:
            return False
        finally:
            self._awaiting = "nothing"
            if acked:
                await asyncio.shield(queue.ack(delivery))
            else:
                await asyncio.shield(queue.requeue(delivery))


routes = [
    (r"/task_runs/subscriptions/scheduled/?", TaskRunSubscriptionHandler),
]
