"""Fuzz the HTTP API from its own OpenAPI schema: no 5xx, responses as the schema declares."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from tests.support.fuzz import EXCLUDED, hostile_requests, make_app

pytestmark = pytest.mark.slow

# Built at import (schemathesis collects the operations from it); the index is made when the app starts.
INDEX_DIR = Path(tempfile.gettempdir()) / f"qa-fuzz-{os.getpid()}" / "index"
schema = schemathesis.openapi.from_asgi("/openapi.json", make_app(INDEX_DIR))


@pytest.fixture(scope="module", autouse=True)
def _remove_index() -> Iterator[None]:
    yield
    shutil.rmtree(INDEX_DIR.parent, ignore_errors=True)


@schema.parametrize()
@settings(max_examples=25, deadline=None, database=None, suppress_health_check=list(HealthCheck))
def test_api_answers_every_generated_request_without_a_server_error(case: schemathesis.Case) -> None:
    case.call_and_validate(excluded_checks=EXCLUDED)


def test_the_declared_error_body_is_what_errors_send() -> None:
    """The 422 schema the fuzzer checks against is the API's own `{detail, errors}`, not FastAPI's."""
    responses = make_app(INDEX_DIR).openapi()["paths"]["/ask"]["post"]["responses"]
    assert responses["422"]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorResponse")


def test_nan_infinity_and_lone_surrogates_anywhere_are_never_a_server_error() -> None:
    """The values the schema cannot make (JSON has no NaN; UTF-8 no lone surrogate), at every place
    of every body, query and path: never a 5xx, always a body that is valid JSON, and a body holding
    one is refused (422) wherever it is. (A query decodes them as text: "NaN" may be a question.)"""
    from fastapi.testclient import TestClient

    statuses: Counter[int] = Counter()
    with TestClient(
        make_app(INDEX_DIR), base_url="http://localhost", raise_server_exceptions=False
    ) as client:
        for method, url, body in hostile_requests():
            response = client.request(method, url, content=body, headers={"content-type": "application/json"})
            statuses[response.status_code] += 1
            assert response.status_code < 500, (method, url, body, response.text)
            json.loads(response.text)
            if body is not None and b"\\u0000" not in body:
                assert response.status_code == 422, (url, body, response.text)
    assert sum(statuses.values()) > 200
