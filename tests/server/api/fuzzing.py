"""Fuzz Baton's API from its own OpenAPI document with schemathesis, and count what went wrong.

Every documented operation gets the same share of a case budget, half valid input (positive mode) and half invalid
input (negative mode). A case fails when the server answers 5xx, answers a status the document does not list, or
answers a body that does not match the document's schema for that status. Generation is seeded, so a given budget
produces the same requests on every run; nothing is shrunk, so a run's time is the budget's.
"""

from __future__ import annotations

import collections
from dataclasses import dataclass, field
from typing import Any

import hypothesis
import hypothesis.errors
import requests
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]


@dataclass
class FuzzReport:
    """What a fuzz run sent and what failed, by kind; `examples` keeps the first failure of each kind per operation."""

    cases: int = 0
    server_errors: int = 0
    mismatches: int = 0
    failures: collections.Counter[tuple[str, str]] = field(default_factory=collections.Counter)
    examples: dict[tuple[str, str], str] = field(default_factory=dict)

    def summary(self) -> str:
        lines = [f"{self.cases} cases, {self.server_errors} 5xx, {self.mismatches} schema mismatches"]
        for (operation, kind), count in sorted(self.failures.items()):
            lines.append(f"  {count:5d} x {operation}: {kind}\n        {self.examples[(operation, kind)]}")
        return "\n".join(lines)


def fuzz(api_url: str, cases: int, seed: int) -> FuzzReport:
    """Send about `cases` generated requests to the server at `api_url` (ending in /api) and report the failures."""
    base_url = api_url.rsplit("/api", 1)[0]
    schema = schemathesis.openapi.from_url(f"{api_url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    per_mode = max(cases // (2 * len(operations)), 1)
    report = FuzzReport()
    with requests.Session() as session:
        for operation in operations:
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                if mode is GenerationMode.NEGATIVE and not _has_invalid_input(operation.definition.raw):
                    continue
                _fuzz_operation(operation, mode, per_mode, seed, base_url, session, report)
    return report


def _has_invalid_input(definition: dict[str, Any]) -> bool:
    """Whether an operation takes input that can be invalid: a body, or a parameter more specific than any string.
    (Negative mode finds nothing to send to the rest, and hypothesis spends a second proving it.)"""
    if "requestBody" in definition:
        return True
    return any(parameter.get("schema") != {"type": "string"} for parameter in definition.get("parameters", []))


def _fuzz_operation(
    operation: Any,
    mode: GenerationMode,
    cases: int,
    seed: int,
    base_url: str,
    session: requests.Session,
    report: FuzzReport,
) -> None:
    label = f"{operation.method.upper()} {operation.path}"

    @hypothesis.seed(seed)
    @hypothesis.settings(
        max_examples=cases,
        database=None,
        deadline=None,
        phases=[hypothesis.Phase.generate],
        suppress_health_check=list(hypothesis.HealthCheck),
        verbosity=hypothesis.Verbosity.quiet,
    )
    @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
    def run(case: Any) -> None:
        report.cases += 1
        response = case.call(base_url=base_url, session=session, timeout=30)
        try:
            case.validate_response(response, checks=CHECKS)
        except (Failure, FailureGroup) as exc:
            failures = exc.exceptions if isinstance(exc, FailureGroup) else [exc]
            if response.status_code >= 500:
                report.server_errors += 1
            else:
                report.mismatches += 1
            for failure in failures:
                key = (label, failure.title)
                report.failures[key] += 1
                if key not in report.examples:
                    body = response.content[:300].decode(errors="replace") if response.content else ""
                    report.examples[key] = f"{response.status_code} {case.as_curl_command()[:400]} -> {body}"

    try:
        run()
    except hypothesis.errors.Unsatisfiable:
        pass  # negative mode for an operation that takes no input: there is nothing invalid to send
