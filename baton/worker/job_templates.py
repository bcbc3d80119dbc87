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

# Prefect's own default image for this Python, as prefect-docker chooses it; a deployment names its own.
DEFAULT_DOCKER_IMAGE = "prefecthq/prefect:3-python3.11"


def _string_or_null(title: str, description: str) -> dict[str, Any]:
    return {
        "anyOf": [{"type": "string"}, {"type": "null"}],
        "title": title,
        "description": description,
        "default": None,
    }


DOCKER_BASE_JOB_TEMPLATE: dict[str, Any] = {
    "job_configuration": {
        name: "{{ " + name + " }}"
        for name in (
            "command",
            "env",
            "labels",
            "name",
            "image",
            "image_pull_policy",
            "networks",
            "network_mode",
            "auto_remove",
            "volumes",
            "stream_output",
        )
    },
    "variables": {
        "type": "object",
        "properties": {
            "command": _string_or_null(
                "Command",
                "The command the container runs; by default the flow run's engine (prefect flow-run execute).",
            ),
            "env": {
                "type": "object",
                "title": "Environment Variables",
                "description": "Environment variables set in the container, besides those the flow run needs.",
                "additionalProperties": {"anyOf": [{"type": "string"}, {"type": "null"}]},
            },
            "labels": {
                "type": "object",
                "title": "Labels",
                "description": "Labels put on the container, besides the worker's own.",
                "additionalProperties": {"type": "string"},
            },
            "name": _string_or_null("Name", "The container's name; by default the flow run's name."),
            "image": {
                "type": "string",
                "title": "Image",
                "description": "The image the container runs; it must have prefect installed.",
                "default": DEFAULT_DOCKER_IMAGE,
            },
            "image_pull_policy": {
                "anyOf": [{"enum": ["IfNotPresent", "Always", "Never"], "type": "string"}, {"type": "null"}],
                "title": "Image Pull Policy",
                "description": "When to pull the image: IfNotPresent (the default), Always or Never.",
                "default": None,
            },
            "networks": {
                "type": "array",
                "title": "Networks",
                "description": "Docker networks the container joins.",
                "items": {"type": "string"},
                "default": [],
            },
            "network_mode": _string_or_null(
                "Network Mode",
                "The container's network mode; by default `host` when the API is on this machine's loopback and no "
                "network is named, Docker's default otherwise.",
            ),
            "auto_remove": {
                "type": "boolean",
                "title": "Auto Remove",
                "description": "Remove the container once it exits.",
                "default": False,
            },
            "volumes": {
                "type": "array",
                "title": "Volumes",
                "description": "Volumes mounted in the container, as `HOST_PATH:CONTAINER_PATH[:ro]`.",
                "items": {"type": "string"},
                "default": [],
            },
            "stream_output": {
                "type": "boolean",
                "title": "Stream Output",
                "description": "Copy the container's output into the flow run's logs.",
                "default": True,
            },
        },
    },
}

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
            "default_base_job_configuration": DOCKER_BASE_JOB_TEMPLATE,
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
