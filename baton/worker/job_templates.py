"""Default base job templates of work pools, in the shape Prefect's workers publish: `job_configuration` maps each
job field to a `{{ variable }}` placeholder, `variables` is the JSON schema of what a deployment or run may set."""

from __future__ import annotations

from typing import Any

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
