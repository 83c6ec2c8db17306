"""Fuzz the HTTP API from its own OpenAPI schema (schemathesis): count cases, statuses, 5xx, violations.

The app runs in-process over a fake-encoder index of the hand-made test articles, writes allowed
(loopback, no token), so `POST /articles` and `DELETE /articles/{id}` are fuzzed too. Then the
values a schema cannot generate (NaN, Infinity, lone surrogates) are sent at every place.

    python -m benchmarks.fuzz_api --examples 200
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from tests.support.fuzz import EXCLUDED, hostile_requests, make_app


@dataclass(slots=True)
class FuzzReport:
    """What a fuzz run sent and got back."""

    cases: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    per_operation: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)

    @property
    def server_errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500)


def fuzz(app: FastAPI, max_examples: int) -> FuzzReport:
    """Send up to `max_examples` schema-valid and as many schema-invalid requests per operation."""
    report = FuzzReport()
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    for result in schema.get_all_operations():
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _fuzz_operation(result.ok(), mode, max_examples, report)
    return report


def _fuzz_operation(
    operation: schemathesis.APIOperation, mode: GenerationMode, max_examples: int, report: FuzzReport
) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=max_examples,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: schemathesis.Case) -> None:
        response = case.call()
        report.cases += 1
        report.statuses[response.status_code] += 1
        report.per_operation[operation.label] += 1
        try:
            case.validate_response(response, excluded_checks=EXCLUDED)
        except Exception as exc:  # collect every failure instead of stopping at the first
            report.failures.append(f"{operation.label} [{mode}]: {' '.join(str(exc).split())[:300]}")

    with contextlib.suppress(Unsatisfiable):  # an operation without parameters has no invalid requests
        run()


def send_hostile(app: FastAPI) -> Counter[int]:
    """Statuses of the requests schemathesis cannot generate: NaN, Infinity and lone surrogates at
    every place of every body, query and path (`tests/support/fuzz.hostile_requests`)."""
    statuses: Counter[int] = Counter()
    with TestClient(app, base_url="http://localhost", raise_server_exceptions=False) as client:
        for method, url, body in hostile_requests():
            response = client.request(method, url, content=body, headers={"content-type": "application/json"})
            statuses[response.status_code] += 1
    return statuses


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=100, help="per operation and generation mode")
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="qa-fuzz-"))
    started = time.monotonic()
    try:
        report = fuzz(make_app(workdir / "index"), args.examples)
        hostile = send_hostile(make_app(workdir / "index"))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    summary = {
        "cases": report.cases,
        "server_errors": report.server_errors,
        "violations": len(report.failures),
        "statuses": dict(sorted(report.statuses.items())),
        "per_operation": dict(report.per_operation),
        "hostile_cases": sum(hostile.values()),
        "hostile_statuses": dict(sorted(hostile.items())),
        "hostile_server_errors": sum(n for status, n in hostile.items() if status >= 500),
        "seconds": round(time.monotonic() - started, 1),
    }
    print(json.dumps(summary, indent=2))
    for failure in report.failures[:20]:
        print(failure)
    return (
        0 if not report.failures and not report.server_errors and not summary["hostile_server_errors"] else 1
    )


if __name__ == "__main__":
    sys.exit(main())
