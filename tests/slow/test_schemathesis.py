"""Fuzz the HTTP API from its own OpenAPI schema: no 5xx, responses as the schema declares."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from tests.support.fuzz import EXCLUDED, make_app

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
