"""The app the schema fuzzers run: the real API over a fake-encoder index, and the checks left out."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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

    # schemathesis's ASGI client sends `Host: testserver`; the Host check has tests of its own.
    return create_app(Settings(index_dir=index_dir, reload_interval=0, allowed_hosts=["*"]), service)


# Values JSON has no room for, or that UTF-8 cannot carry: each reached a 500 once.
HOSTILE_JSON = ("NaN", "Infinity", "-Infinity", '"\\ud800"', '"x\\udfffy"', '"\\ud83d"', "1e999", '"\\u0000"')
HOSTILE_QUERY = ("NaN", "Infinity", "-Infinity", "%ED%A0%80", "%FF", "%00", "1e999")
_BODIES: dict[str, dict[str, Any]] = {
    "/ask": {
        "question": "metro",
        "k": 3,
        "since": "2023-01-01",
        "sources": ["News.Az"],
        "as_of": "2025-01-01",
    },
    "/ask/batch": {"questions": ["metro", {"id": "q", "question": "cotton"}], "k": 2},
    "/articles": {
        "articles": [
            {"id": "z", "title": "T", "text": "Some text.", "date": "2024-01-01", "source": "S", "url": "u"}
        ]
    },
}


def _leaves(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every place in a JSON value a hostile value can go: each leaf, and a key of each object."""
    if isinstance(value, dict):
        yield (*path, "<key>")
        for key, item in value.items():
            yield from _leaves(item, (*path, key))
    elif isinstance(value, list):
        for n, item in enumerate(value):
            yield from _leaves(item, (*path, n))
    else:
        yield path


def _with(value: Any, path: tuple[Any, ...], marker: str) -> Any:
    if not path:
        return marker
    head, *rest = path
    if head == "<key>":
        return {marker: 1, **value}
    copy = dict(value) if isinstance(value, dict) else list(value)
    copy[head] = _with(copy[head], tuple(rest), marker)  # type: ignore[index]
    return copy


def hostile_requests() -> Iterator[tuple[str, str, bytes | None]]:
    """`(method, url, raw JSON body)`: each hostile value at each place of each body, query and path."""
    marker = "@@HOSTILE@@"
    for url, body in _BODIES.items():
        for path in _leaves(body):
            text = json.dumps(_with(body, path, marker))
            for value in HOSTILE_JSON:
                yield "POST", url, text.replace(json.dumps(marker), value).encode()
    for value in HOSTILE_QUERY:
        for query in (
            f"question={value}",
            f"question=metro&k={value}",
            f"question=metro&sources={value}",
            f"question=metro&since={value}",
            f"q={value}",
        ):
            yield "GET", f"/search?{query}", None
        yield "GET", f"/articles/{value}", None
        yield "GET", f"/articles/pipeline-a/related?k={value}", None
        yield "GET", f"/articles/{value}/related", None
        yield "DELETE", f"/articles/{value}", None
