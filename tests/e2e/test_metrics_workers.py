"""`/metrics` of `qa serve` with two workers: any worker's scrape counts the requests of both."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.support.prometheus import value

pytestmark = pytest.mark.model

REQUESTS = 60


def stats_requests(server: str) -> float:
    with httpx.Client(timeout=30) as fresh:  # a new connection: whichever worker accepts it answers
        text = fresh.get(f"{server}/metrics").text
    return value(text, "qa_http_requests_total", method="GET", route="/stats", status="200") or 0.0


def test_every_scrape_adds_up_the_requests_of_both_workers(server: str) -> None:
    before = stats_requests(server)

    def one(_: int) -> int:
        with httpx.Client(timeout=30) as fresh:
            return fresh.get(f"{server}/stats").status_code

    # Concurrent clients on new connections, so both workers answer some of them.
    with ThreadPoolExecutor(8) as pool:
        assert set(pool.map(one, range(REQUESTS))) == {200}
    scraped = {stats_requests(server) for _ in range(8)}

    assert scraped == {before + REQUESTS}


def test_the_index_figures_are_those_of_stats(server: str) -> None:
    stats = httpx.get(f"{server}/stats", timeout=30).json()
    text = httpx.get(f"{server}/metrics", timeout=30).text

    assert value(text, "qa_index_up") == 1
    assert value(text, "qa_index_articles") == stats["articles"] == 8
    assert value(text, "qa_index_passages") == stats["passages"]
    assert value(text, "qa_index_version") == stats["version"]
