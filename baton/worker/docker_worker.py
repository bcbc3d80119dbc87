"""A docker worker: runs each flow run in a container of the deployment's image through the Docker SDK, with the job
variables of the pool's base job template (job_templates.DOCKER_BASE_JOB_TEMPLATE), and copies the container's
output into the run's logs. Polling, state reporting and cancellation are the base worker's (base.py).

The Docker SDK blocks, so its calls run in threads. A container on the host network (the default when the API is on
this machine's loopback) reaches the worker's control channel too, so a cancelled run's engine reports Cancelled
itself; on another network it is stopped and the worker reports Cancelled.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import ipaddress
import logging
import re
import shlex
import threading
import urllib.parse
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

from baton.errors import BatonError
from baton.worker.api import JsonObject, WorkerApi
from baton.worker.base import Job, JobNotStarted, Worker
from baton.worker.job_templates import DEFAULT_DOCKER_IMAGE, DOCKER_BASE_JOB_TEMPLATE

if TYPE_CHECKING:
    from docker import DockerClient
    from docker.errors import DockerException
    from docker.models.containers import Container

# The Docker SDK is imported where it is used: importing it opens a socket (urllib3's IPv6 probe), and importing a
# Baton module must open nothing (tests/test_imports.py).

logger = logging.getLogger("baton.worker")

WORKER_TYPE = "docker"
# What the container runs unless the job variables say otherwise: the engine of the run named by PREFECT__FLOW_RUN_ID.
DEFAULT_COMMAND = "prefect flow-run execute"
PULL_POLICIES = ("IfNotPresent", "Always", "Never")
# The logger name the container's output is stored under in the run's logs.
OUTPUT_LOGGER = "baton.worker.docker.output"
# After the container exits, its last output lines get this long to reach the server.
OUTPUT_FLUSH_SECONDS = 10.0

T = TypeVar("T")


class DockerWorker(Worker):
    """Runs each flow run in a Docker container of the engine the environment (DOCKER_HOST, ...) names."""

    worker_type = WORKER_TYPE

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._docker: DockerClient | None = None

    def new_pool_template(self) -> JsonObject | None:
        return DOCKER_BASE_JOB_TEMPLATE

    def docker_client(self) -> DockerClient:
        """The Docker engine's client, connected once; JobNotStarted when the engine cannot be reached."""
        import docker

        if self._docker is None:
            try:
                self._docker = docker.from_env()
            except docker.errors.DockerException as exc:
                raise JobNotStarted(f"Cannot reach the Docker engine: {exc}") from None
        return self._docker

    async def start_job(self, run: JsonObject, deployment: JsonObject, variables: dict[str, Any]) -> Job:
        settings = container_settings(variables, run, self.options.api_url)
        env = self.run_environment(run, deployment, variables)
        if settings.get("network_mode") == "host":  # the control channel listens on the host's loopback
            env.update(self.control.register(str(run["id"])))
        stream = OutputStream(str(run["id"]), self.api) if variables.get("stream_output", True) else None
        if stream is not None:
            # The engine's log lines reach the run's logs through its own API handler; printed on its console too
            # they would be stored twice. Prints, tracebacks and the output of what the flow starts still show.
            env.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "CRITICAL")
        settings["environment"] = env
        settings["labels"].update({"io.prefect.worker-name": self.options.name})
        return await asyncio.to_thread(self._run_container, settings, variables, str(run["id"]), stream)

    def _run_container(
        self, settings: dict[str, Any], variables: dict[str, Any], run_id: str, output: OutputStream | None
    ) -> DockerJob:
        """Pull (as the policy says), create, connect and start the container, then follow its output."""
        import docker.errors

        client = self.docker_client()
        networks: list[str] = settings.pop("extra_networks")
        try:
            ensure_image(client, settings["image"], variables.get("image_pull_policy") or "IfNotPresent")
            try:
                container = client.containers.create(**settings)
            except docker.errors.APIError as exc:
                if exc.status_code != 409:  # 409: the name is taken; the run's id makes it the run's own
                    raise
                settings["name"] = f"{settings['name']}-{run_id[:8]}"
                container = client.containers.create(**settings)
        except docker.errors.DockerException as exc:
            raise JobNotStarted(docker_message(exc)) from None
        try:
            for network in networks:
                client.networks.get(network).connect(container)
            container.start()
        except docker.errors.DockerException as exc:
            with contextlib.suppress(docker.errors.DockerException):  # a container that never ran is of no use
                container.remove(force=True)
            raise JobNotStarted(docker_message(exc)) from None
        if output is not None:
            output.start(container)
        return DockerJob(container, output)


class DockerJob:
    """A run's container; stopping it is `docker stop` (SIGTERM, then SIGKILL after the grace period)."""

    def __init__(self, container: Container, output: OutputStream | None) -> None:
        self.container = container
        self.output = output

    @property
    def infrastructure_pid(self) -> str:
        return str(self.container.id)

    async def wait(self) -> int | None:
        import docker.errors

        try:
            result = await in_own_thread(self.container.wait)
            code: int | None = int(result["StatusCode"])
        except docker.errors.NotFound:  # removed (auto_remove) before the wait began
            code = None
        if self.output is not None:
            await self.output.finished(OUTPUT_FLUSH_SECONDS)
        return code

    async def stop(self, grace_seconds: float) -> None:
        import docker.errors

        try:
            await asyncio.to_thread(self.container.stop, timeout=max(1, round(grace_seconds)))
        except docker.errors.NotFound:
            pass  # already gone
        except docker.errors.APIError as exc:
            logger.warning("Could not stop container %s: %s", self.container.id, docker_message(exc))


class OutputStream:
    """Copies a container's output, line by line, into its flow run's logs from a thread of its own (the Docker
    SDK's log stream blocks)."""

    def __init__(self, run_id: str, api: WorkerApi) -> None:
        self.run_id = run_id
        self.api = api
        self.loop = asyncio.get_running_loop()
        self._done = asyncio.Event()

    def start(self, container: Container) -> None:
        """Follow the container's output (all of it, from its start) in a daemon thread."""
        thread = threading.Thread(target=self._read, args=(container,), name=f"output-{self.run_id}", daemon=True)
        thread.start()

    async def finished(self, wait_seconds: float) -> None:
        """Returns once the output is all sent, or after `wait_seconds`."""
        try:
            await asyncio.wait_for(self._done.wait(), wait_seconds)
        except TimeoutError:
            logger.warning("The output of flow run %s was still being read after %g s", self.run_id, wait_seconds)

    def _read(self, container: Container) -> None:
        import docker.errors

        pending = b""
        try:
            for chunk in container.logs(stream=True, follow=True):
                pending += chunk
                *lines, pending = pending.split(b"\n")
                self._send(lines)
        except docker.errors.DockerException as exc:
            logger.warning("Stopped reading the output of flow run %s: %s", self.run_id, docker_message(exc))
        finally:
            with contextlib.suppress(RuntimeError):  # the worker's loop closed: nobody is waiting any more
                self._send([pending])
                self.loop.call_soon_threadsafe(self._done.set)

    def _send(self, lines: list[bytes]) -> None:
        texts = [line.decode("utf-8", "replace").rstrip("\r") for line in lines]
        if not any(texts):
            return
        asyncio.run_coroutine_threadsafe(self._store([text for text in texts if text]), self.loop).result()

    async def _store(self, texts: list[str]) -> None:
        now = dt.datetime.now(dt.UTC).isoformat()
        entries = [
            {
                "name": OUTPUT_LOGGER,
                "level": logging.INFO,
                "message": text,
                "timestamp": now,
                "flow_run_id": self.run_id,
            }
            for text in texts
        ]
        try:
            await self.api.create_logs(entries)
        except BatonError as exc:
            logger.warning("Could not store the output of flow run %s: %s", self.run_id, exc.message)


def in_own_thread(call: Callable[[], T]) -> Awaitable[T]:
    """`call()` in a daemon thread of its own: for a call that blocks as long as a container runs, which would hold
    one of the few threads of the loop's default executor (6 on 2 cores) that `docker stop` needs too."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def settle(outcome: Callable[[], None]) -> None:
        if not future.done():
            outcome()

    def target() -> None:
        try:
            result = call()
        except BaseException as exc:  # handed over to the awaiting task, whatever it is
            error = exc
            with contextlib.suppress(RuntimeError):  # the loop closed: nobody is waiting any more
                loop.call_soon_threadsafe(settle, lambda: future.set_exception(error))
        else:
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(settle, lambda: future.set_result(result))

    threading.Thread(target=target, daemon=True).start()
    return future


def container_settings(variables: dict[str, Any], run: JsonObject, api_url: str) -> dict[str, Any]:
    """The Docker SDK's `containers.create` arguments for a run's job variables (without its environment), plus
    `extra_networks` to connect it to before it starts; JobNotStarted for a variable of the wrong shape."""
    image = _string(variables, "image") or DEFAULT_DOCKER_IMAGE
    command = _string(variables, "command") or DEFAULT_COMMAND
    policy = variables.get("image_pull_policy") or "IfNotPresent"
    if policy not in PULL_POLICIES:
        raise JobNotStarted(f"image_pull_policy must be one of {', '.join(PULL_POLICIES)}, not {policy!r}.")
    networks = _strings(variables, "networks")
    network_mode = _string(variables, "network_mode")
    if not network_mode and not networks and api_on_loopback(api_url):
        network_mode = "host"  # the API on this machine's loopback is reachable only from the host's network
    labels = variables.get("labels") or {}
    if not isinstance(labels, dict):
        raise JobNotStarted("labels must be an object of names to values.")
    settings: dict[str, Any] = {
        "image": image,
        "command": shlex.split(command),
        "name": container_name(_string(variables, "name") or run["name"]),
        "labels": {
            **{str(key): str(value) for key, value in labels.items()},
            "io.prefect.flow-run-id": str(run["id"]),
            "io.prefect.flow-run-name": str(run["name"]),
        },
        "volumes": _strings(variables, "volumes"),
        "auto_remove": bool(variables.get("auto_remove")),
        "detach": True,
        "extra_networks": networks[1:],
    }
    if network_mode:
        settings["network_mode"] = network_mode
    if networks:
        settings["network"] = networks[0]
    return settings


def _string(variables: dict[str, Any], name: str) -> str | None:
    value = variables.get(name)
    if value is not None and not isinstance(value, str):
        raise JobNotStarted(f"{name} must be a string, not {value!r}.")
    return value or None


def _strings(variables: dict[str, Any], name: str) -> list[str]:
    value = variables.get(name) or []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise JobNotStarted(f"{name} must be a list of strings, not {value!r}.")
    return value


def container_name(name: str) -> str:
    """A valid container name from a run's name: [a-zA-Z0-9][a-zA-Z0-9_.-]*."""
    cleaned = re.sub(r"[^a-zA-Z0-9_.-]+", "-", name).strip("-_.")
    return cleaned or "flow-run"


def api_on_loopback(api_url: str) -> bool:
    host = urllib.parse.urlsplit(api_url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def ensure_image(client: DockerClient, image: str, policy: str) -> None:
    """Pull the image as the policy says; JobNotStarted when it is needed and cannot be had."""
    import docker.errors
    from docker.utils import parse_repository_tag

    if policy != "Always":
        try:
            client.images.get(image)
            return
        except docker.errors.ImageNotFound:
            if policy == "Never":
                raise JobNotStarted(
                    f"The image {image!r} is not on this machine and image_pull_policy is Never."
                ) from None
    repository, tag = parse_repository_tag(image)
    try:
        client.images.pull(repository, tag=tag or "latest")
    except docker.errors.DockerException as exc:
        raise JobNotStarted(f"The image {image!r} could not be pulled: {docker_message(exc)}") from None


def docker_message(exc: DockerException) -> str:
    """What the engine said, without the SDK's request line."""
    import docker.errors

    if isinstance(exc, docker.errors.APIError) and exc.explanation:
        return str(exc.explanation)
    return str(exc)
