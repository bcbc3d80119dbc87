"""Wiring actors to a broker: declare every actor, bound to an actor runtime, and run them either in `baton server
services` worker processes (on an event-loop thread of their own) or embedded in the API server (on the server's
event loop). Nothing here runs at import: the brokers are built by `make_services_broker` and `EmbeddedServices`."""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Callable
from typing import Any

import dramatiq
from dramatiq.asyncio import EventLoopThread
from dramatiq.middleware import Middleware

from baton.actors import (
    automation_actions,
    automation_metrics,
    automation_triggers,
    cancellation,
    concurrency,
    events,
    late_runs,
    notifications,
    retention,
    scheduler,
    work_pool_status,
    zombie_runs,
)
from baton.actors.quiet import QuietWorkspaces
from baton.actors.runtime import ActorFunction, ActorRuntime, FanOut
from baton.gc_tuning import tune_garbage_collector
from baton.log_config import quiet_http_client_loggers
from baton.queue import messages
from baton.queue.beat import Beat, PeriodicJob
from baton.queue.broker import make_broker
from baton.server.database.engine import Database
from baton.settings import Settings

logger = logging.getLogger("baton.actors")

ACTOR_FUNCTIONS: dict[str, ActorFunction] = {
    messages.RECORD_EVENTS: events.record_events,
    messages.EMIT_FLOW_RUN_EVENTS: events.emit_flow_run_events,
    messages.RESUME_UNPUBLISHED_STATE_CHANGES: events.resume_unpublished_state_changes,
    messages.MARK_LATE_RUNS: late_runs.mark_late_runs,
    messages.MATCH_NOTIFICATIONS: notifications.match_notifications,
    messages.DELIVER_NOTIFICATIONS: notifications.deliver_notifications,
    messages.SEND_NOTIFICATION_SUMMARY: notifications.send_notification_summary,
    messages.RESUME_STALLED_DELIVERIES: notifications.resume_stalled_deliveries,
    messages.EXPIRE_CONCURRENCY_LEASES: concurrency.expire_concurrency_leases,
    messages.SCHEDULE_DEPLOYMENTS: scheduler.schedule_deployments,
    messages.UPDATE_WORK_POOL_STATUSES: work_pool_status.update_work_pool_statuses,
    messages.MARK_ZOMBIE_RUNS: zombie_runs.mark_zombie_runs,
    messages.CANCEL_CHILD_RUNS: cancellation.cancel_child_runs,
    messages.PRUNE_EXPIRED_DATA: retention.prune_expired_data,
    messages.EVALUATE_TRIGGERS: automation_triggers.evaluate_triggers,
    messages.EVALUATE_PROACTIVE_TRIGGERS: automation_triggers.evaluate_proactive_triggers,
    messages.RUN_AUTOMATION_ACTIONS: automation_actions.run_automation_actions,
    messages.RESUME_STALLED_ACTIONS: automation_actions.resume_stalled_actions,
    messages.EVALUATE_METRIC_TRIGGERS: automation_metrics.evaluate_metric_triggers,
}

# Among the messages a worker has fetched, Dramatiq runs the lowest number first. Deliveries go before new events, so
# that a burst of state changes does not keep the messages of the earlier ones waiting behind the later ones' events;
# an automation's actions go before the evaluation of more events for the same reason.
DEFAULT_PRIORITY = 10
ACTOR_PRIORITIES = {messages.DELIVER_NOTIFICATIONS: 0, messages.RUN_AUTOMATION_ACTIONS: 0}

# A periodic job's messages for the workspaces go out spread over half its period, at most this many seconds: all of
# them at once (every job's periods start together) held requests up in a server of 50 workspaces
# (benchmarks/workspaces.py).
MAX_FAN_OUT_SPREAD_SECONDS = 30.0
# Seconds between sweeps for notification deliveries whose queue message was lost.
STALLED_DELIVERIES_LOOP_SECONDS = 30.0
# Seconds between evaluations of metric triggers: a tenth of their shortest `firing_for` (300 s), so a transition
# fires at most 30 s late.
METRIC_TRIGGERS_LOOP_SECONDS = 30.0


def periodic_jobs(settings: Settings) -> list[PeriodicJob]:
    """The beat's schedule. Each job's message runs in the default workspace and is sent on to every other one."""
    return [
        PeriodicJob(
            job.name,
            job.interval,
            functools.partial(
                _for_every_workspace, job.make_message, min(job.interval, MAX_FAN_OUT_SPREAD_SECONDS) / 2
            ),
        )
        for job in _periodic_jobs(settings)
    ]


def _for_every_workspace(make_message: Callable[[], dramatiq.Message[Any]], spread: float) -> dramatiq.Message[Any]:
    return messages.for_every_workspace(make_message(), spread)


def _periodic_jobs(settings: Settings) -> list[PeriodicJob]:
    return [
        PeriodicJob(messages.MARK_LATE_RUNS, settings.services_late_runs_loop_seconds, messages.mark_late_runs),
        PeriodicJob(
            messages.RESUME_STALLED_DELIVERIES, STALLED_DELIVERIES_LOOP_SECONDS, messages.resume_stalled_deliveries
        ),
        PeriodicJob(
            messages.RESUME_UNPUBLISHED_STATE_CHANGES,
            settings.services_unpublished_state_changes_loop_seconds,
            messages.resume_unpublished_state_changes,
        ),
        PeriodicJob(
            messages.EXPIRE_CONCURRENCY_LEASES,
            settings.services_lease_sweep_seconds,
            messages.expire_concurrency_leases,
        ),
        PeriodicJob(
            messages.SCHEDULE_DEPLOYMENTS, settings.services_scheduler_loop_seconds, messages.schedule_deployments
        ),
        PeriodicJob(
            messages.UPDATE_WORK_POOL_STATUSES,
            settings.services_foreman_loop_seconds,
            messages.update_work_pool_statuses,
        ),
        PeriodicJob(messages.MARK_ZOMBIE_RUNS, settings.services_zombie_runs_loop_seconds, messages.mark_zombie_runs),
        PeriodicJob(messages.PRUNE_EXPIRED_DATA, settings.services_retention_loop_seconds, messages.prune_expired_data),
        PeriodicJob(
            messages.EVALUATE_PROACTIVE_TRIGGERS,
            settings.services_automations_proactive_loop_seconds,
            messages.evaluate_proactive_triggers,
        ),
        PeriodicJob(
            messages.RESUME_STALLED_ACTIONS,
            settings.services_automations_stalled_actions_loop_seconds,
            messages.resume_stalled_actions,
        ),
        PeriodicJob(messages.EVALUATE_METRIC_TRIGGERS, METRIC_TRIGGERS_LOOP_SECONDS, messages.evaluate_metric_triggers),
    ]


def _bound(runtime: ActorRuntime, name: str, function: ActorFunction) -> Callable[..., None]:
    """`function` as a Dramatiq actor function: run to completion on the actors' event loop with the runtime of the
    message's workspace (see `messages.in_workspace`); a periodic job's message from the beat is first sent on to
    every other workspace (`messages.for_every_workspace`)."""

    @functools.wraps(function)
    def run_on_loop(*args: Any, workspace: str | None = None, every_workspace: float | None = None) -> None:
        fan_out = None
        if every_workspace is not None and workspace is None:
            fan_out = FanOut(messages.message(name, *args), float(every_workspace))
        runtime.run(function, args, workspace, fan_out)

    return run_on_loop


def declare_actors(broker: dramatiq.Broker, runtime: ActorRuntime) -> dict[str, dramatiq.Actor[Any, Any]]:
    """Declare every Baton actor on `broker`, each on the queue its message contract names, running with `runtime`."""
    return {
        name: dramatiq.Actor(
            _bound(runtime, name, function),
            broker=broker,
            actor_name=name,
            queue_name=messages.ACTOR_QUEUES[name],
            priority=ACTOR_PRIORITIES.get(name, DEFAULT_PRIORITY),
            options={},
        )
        for name, function in ACTOR_FUNCTIONS.items()
    }


def make_beat(settings: Settings, broker: dramatiq.Broker) -> Beat:
    client = getattr(broker, "client", None) if settings.redis_url else None
    return Beat(
        broker,
        periodic_jobs(settings),
        client=client,
        namespace=settings.redis_namespace,
        lease_seconds=settings.queue_beat_lease_seconds,
    )


class ServicesProcess(Middleware):
    """In a `baton server services` worker process: an event loop for the async actors of `runtime`, and the beat
    (every process runs one; the Redis lease lets one of them send)."""

    def __init__(self, runtime: ActorRuntime) -> None:
        self.runtime = runtime
        self.loop_thread: EventLoopThread | None = None
        self.beat: Beat | None = None

    def before_worker_boot(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        if self.loop_thread is None:
            self.loop_thread = EventLoopThread(logger)
            self.loop_thread.start(timeout=5.0)
            self.runtime.loop = self.loop_thread.loop
        quiet_http_client_loggers()

    def after_worker_boot(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        self.beat = make_beat(self.runtime.settings, broker)
        self.beat.start()
        # A services process exists to run actors: it loads the notification channels (httpx, aiohttp) and the
        # template engine (jinja2, which every automation action renders with) now rather than in the middle of its
        # first burst of deliveries, or in its first firing's action (importing jinja2 there added a few hundred ms
        # on a busy machine to the first action of each process). The API server keeps loading them lazily.
        import jinja2.sandbox  # noqa: F401

        import baton.notifications.channels  # noqa: F401
        import baton.notifications.http  # noqa: F401

        tune_garbage_collector()

    def before_worker_shutdown(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        if self.beat is not None:
            self.beat.stop()

    def after_worker_shutdown(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        loop_thread, self.loop_thread = self.loop_thread, None
        if loop_thread is None:
            return
        asyncio.run_coroutine_threadsafe(self.runtime.close(), loop_thread.loop).result()
        self.runtime.loop = None
        loop_thread.stop()


def make_services_broker(settings: Settings) -> dramatiq.Broker:
    """The broker of a `baton server services` worker process for `settings`: every actor declared on it, bound to
    a new actor runtime, and the middleware that runs the actors' loop and the beat. Connects to nothing yet."""
    broker = make_broker(settings)
    runtime = ActorRuntime(settings, broker)
    broker.add_middleware(ServicesProcess(runtime))
    declare_actors(broker, runtime)
    return broker


class EmbeddedServices:
    """The actors and the beat inside the API server process (no Redis): a Dramatiq worker on threads whose async
    actors run on the server's own loop, and a beat without a lease. Every write to the stores goes through this
    process, so its periodic jobs skip the workspaces where nothing changed (`baton.actors.quiet`)."""

    def __init__(self, settings: Settings, database: Database) -> None:
        self.settings = settings
        self.broker = make_broker(settings)
        self.runtime = ActorRuntime(settings, self.broker, database)
        self.runtime.quiet = QuietWorkspaces(database.change_marks)
        declare_actors(self.broker, self.runtime)
        self.worker: dramatiq.Worker | None = None
        self.beat: Beat | None = None

    def start(self) -> None:
        self.runtime.loop = asyncio.get_running_loop()
        self.worker = dramatiq.Worker(
            self.broker, worker_threads=self.settings.queue_worker_threads, worker_timeout=100
        )
        self.worker.start()
        self.beat = make_beat(self.settings, self.broker)
        self.beat.start()

    async def stop(self, grace_seconds: float) -> None:
        """Stop the beat, let queued messages finish (up to `grace_seconds`), then stop the worker."""
        if self.beat is not None:
            self.beat.stop()
        loop = asyncio.get_running_loop()
        if self.worker is not None:
            try:
                await loop.run_in_executor(None, self._drain, grace_seconds)
            finally:
                await loop.run_in_executor(None, self.worker.stop)
                self.worker = None
        await self.runtime.close()
        self.runtime.loop = None

    def _drain(self, grace_seconds: float) -> None:
        """Wait until the queues (not their delayed messages: retries and summaries due later) are worked off."""
        deadline = time.monotonic() + grace_seconds
        for queue_name in messages.QUEUES:
            queue = self.broker.queues[queue_name]
            while queue.unfinished_tasks and time.monotonic() < deadline:
                time.sleep(0.01)
            if queue.unfinished_tasks:
                logger.warning("Stopped with %d messages still queued on %s", queue.unfinished_tasks, queue_name)
