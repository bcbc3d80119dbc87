"""The worker types Baton knows and each one's default base job template, in the shape Prefect's workers use.

A base job template has two parts: `variables`, a JSON schema of what a deployment or a run may set (its job
variables), and `job_configuration`, the worker's settings with `{{ name }}` placeholders filled from them. The
server serves `WORKER_METADATA` as the `aggregate-worker-metadata` collection view (what `prefect work-pool create
--type` and `get-default-base-job-template` read); workers import their template from here. Pure data: nothing here
is fetched at run time.
"""

from __future__ import annotations

import copy
from typing import Any

PROCESS_WORKER_TYPE = "process"
DOCKER_WORKER_TYPE = "docker"

JsonObject = dict[str, Any]


def _variable(title: str, description: str, json_type: str, **extra: Any) -> JsonObject:
    return {"title": title, "description": description, "type": json_type, **extra}


def _string_map(title: str, description: str) -> JsonObject:
    return _variable(title, description, "object", additionalProperties={"type": "string"})


def _template(variables: dict[str, JsonObject]) -> JsonObject:
    """A base job template whose job configuration takes each variable by its own name."""
    return {
        "job_configuration": {name: "{{ " + name + " }}" for name in variables},
        "variables": {"type": "object", "properties": variables},
    }


# The variables every worker type takes.
_COMMON_VARIABLES: dict[str, JsonObject] = {
    "command": _variable(
        "Command",
        "The command that starts a flow run; left blank, the worker builds it (python -m prefect.engine).",
        "string",
    ),
    "env": _string_map("Environment Variables", "Environment variables set for the flow run."),
    "labels": _string_map("Labels", "Labels put on what the worker creates for a flow run."),
    "name": _variable("Name", "The name given to what the worker creates for a flow run.", "string"),
    "stream_output": _variable(
        "Stream Output", "Whether the worker copies the flow run's output to its own.", "boolean", default=True
    ),
}

PROCESS_JOB_TEMPLATE: JsonObject = _template(
    {
        **_COMMON_VARIABLES,
        "working_dir": _variable(
            "Working Directory",
            "The directory the flow run's process starts in; a fresh temporary directory when not set.",
            "string",
            format="path",
        ),
    }
)

# Docker's own pull policies, as the Docker SDK names them.
IMAGE_PULL_POLICIES = ("IfNotPresent", "Always", "Never")

DOCKER_JOB_TEMPLATE: JsonObject = _template(
    {
        **_COMMON_VARIABLES,
        "image": _variable(
            "Image",
            "The container image a flow run runs in; the Prefect image of the worker's version when not set.",
            "string",
            examples=["docker.io/prefecthq/prefect:3-latest"],
        ),
        "image_pull_policy": _variable(
            "Image Pull Policy",
            "When to pull the image before starting a container.",
            "string",
            enum=list(IMAGE_PULL_POLICIES),
        ),
        "networks": _variable(
            "Networks", "Docker networks the container joins.", "array", items={"type": "string"}, default=[]
        ),
        "network_mode": _variable(
            "Network Mode", "The container's network mode (host, bridge, ...); not together with networks.", "string"
        ),
        "auto_remove": _variable(
            "Auto Remove", "Whether the container is removed once it exits.", "boolean", default=False
        ),
        "volumes": _variable(
            "Volumes",
            "Volumes mounted into the container, as host_path:container_path.",
            "array",
            items={"type": "string"},
            default=[],
            examples=[["/my/local/path:/path/in/container"]],
        ),
        "mem_limit": _variable(
            "Memory Limit", "The container's memory limit, with a unit (100000b, 1000k, 128m, 1g).", "string"
        ),
        "privileged": _variable(
            "Privileged", "Whether the container gets extended privileges.", "boolean", default=False
        ),
    }
)

_DOCUMENTATION = "https://docs.prefect.io/v3/concepts/workers"

# The `aggregate-worker-metadata` view: collection (the package that ships a worker) -> worker type -> metadata.
WORKER_METADATA: dict[str, dict[str, JsonObject]] = {
    "prefect": {
        PROCESS_WORKER_TYPE: {
            "type": PROCESS_WORKER_TYPE,
            "display_name": "Process",
            "description": "Runs each flow run as a subprocess of the worker, on the worker's machine.",
            "documentation_url": _DOCUMENTATION,
            "install_command": "pip install prefect",
            "is_beta": False,
            "logo_url": "",
            "default_base_job_configuration": PROCESS_JOB_TEMPLATE,
        }
    },
    "prefect-docker": {
        DOCKER_WORKER_TYPE: {
            "type": DOCKER_WORKER_TYPE,
            "display_name": "Docker",
            "description": "Runs each flow run in a Docker container started by the worker.",
            "documentation_url": _DOCUMENTATION,
            "install_command": "pip install prefect-docker",
            "is_beta": False,
            "logo_url": "",
            "default_base_job_configuration": DOCKER_JOB_TEMPLATE,
        }
    },
}


def worker_metadata() -> dict[str, dict[str, JsonObject]]:
    """A copy of `WORKER_METADATA` that the caller may change."""
    return copy.deepcopy(WORKER_METADATA)


def default_base_job_template(worker_type: str) -> JsonObject | None:
    """A copy of the default base job template of `worker_type`; None for a type Baton does not know."""
    for workers in WORKER_METADATA.values():
        if worker_type in workers:
            return copy.deepcopy(workers[worker_type]["default_base_job_configuration"])
    return None
