"""Running a worker of the chosen type in this process until SIGINT or SIGTERM."""

from __future__ import annotations

import asyncio
import signal

from baton.worker.base import Worker, WorkerOptions
from baton.worker.docker_worker import DockerWorker
from baton.worker.process_worker import ProcessWorker

WORKER_TYPES: dict[str, type[Worker]] = {"process": ProcessWorker, "docker": DockerWorker}


def run_worker(options: WorkerOptions) -> None:
    """Run the worker of `options.pool_type` until SIGINT or SIGTERM, then wind its runs down."""
    worker_class = WORKER_TYPES[options.pool_type]

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await worker_class(options).run(stop)

    asyncio.run(main())
