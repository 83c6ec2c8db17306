"""The app the schema fuzzers run: the real API over a fake-encoder index, and the checks left out."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from schemathesis import checks

from qa.api import create_app
from qa.service import QAService
from qa.settings import Settings
from tests.support.articles import make_articles
from tests.support.driver import make_service

# Left out on purpose, each a choice rather than a bug:
# - positive_data_acceptance: the API answers 422 with a message to requests the schema cannot call
#   invalid (a blank question, `since` after `until`, `k` beyond the configured maximum);
# - negative_data_rejection: pydantic's lax mode accepts what the schema does not promise (a number
#   as a date is read as a Unix time, "5" as an integer);
# - allow_header_conformance: Starlette answers an unsupported method with the `Allow` of the first
#   route matching the path (GET /articles/{id} lists GET, not GET and DELETE).
EXCLUDED = [checks.positive_data_acceptance, checks.negative_data_rejection, checks.allow_header_conformance]


def make_app(index_dir: Path) -> FastAPI:
    """The real app over a fake-encoder index of the test articles (built when the app starts)."""

    def service() -> QAService:
        qa = make_service(index_dir)
        qa.add(make_articles())
        return qa

    return create_app(Settings(index_dir=index_dir, reload_interval=0), service)
