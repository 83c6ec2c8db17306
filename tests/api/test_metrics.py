"""`GET /metrics`: requests and latency per route template, the index's size, version and last write."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from fastapi.testclient import TestClient

from qa.api import create_app
from qa.settings import Settings
from tests.support.fakes import FakeEncoder
from tests.support.prometheus import samples, value
from tests.support.services import LOCAL, ClientFactory, build_service

REQUESTS = "qa_http_requests_total"
LATENCY = "qa_http_request_duration_seconds"


def scrape(client: TestClient) -> str:
    response = client.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=")
    return response.text


def test_requests_are_counted_by_route_template_not_by_path(client: TestClient) -> None:
    for article_id in ("metro-opening", "cotton-harvest", "no-such-article"):
        client.get(f"/articles/{article_id}")
    text = scrape(client)

    article = {"method": "GET", "route": "/articles/{article_id}"}
    assert value(text, REQUESTS, **article, status="200") == 2
    assert value(text, REQUESTS, **article, status="404") == 1
    assert "metro-opening" not in text and "no-such-article" not in text


def test_latency_is_a_histogram_per_route(client: TestClient) -> None:
    for _ in range(3):
        client.post("/ask", json={"question": "metro station", "k": 2})
    client.post("/ask", json={"question": "", "k": 2})
    text = scrape(client)

    ask = {"method": "POST", "route": "/ask"}
    assert value(text, f"{LATENCY}_count", **ask) == 4
    assert value(text, f"{LATENCY}_bucket", **ask, le="+Inf") == 4
    assert 0 < value(text, f"{LATENCY}_sum", **ask) < 60  # type: ignore[operator]
    assert (value(text, REQUESTS, **ask, status="200"), value(text, REQUESTS, **ask, status="422")) == (3, 1)


def test_unknown_paths_and_methods_share_bounded_labels(client: TestClient) -> None:
    for n in range(3):
        client.get(f"/made-up-{n}")
    client.request("BREW", "/ask")
    text = scrape(client)

    assert value(text, REQUESTS, method="GET", route="(unmatched)", status="404") == 3
    assert value(text, REQUESTS, method="other", route="/ask", status="405") == 1
    assert "made-up" not in text and "BREW" not in text


def test_the_page_and_its_static_files_are_counted_under_their_mount(client: TestClient) -> None:
    client.get("/")
    client.get("/static/page.js")
    client.get("/static/page.css")
    text = scrape(client)

    assert value(text, REQUESTS, method="GET", route="/", status="200") == 1
    assert value(text, REQUESTS, method="GET", route="/static/{path}", status="200") == 2


def test_index_size_version_and_last_write_are_read_at_scrape(client: TestClient) -> None:
    stats = client.get("/stats").json()
    before = scrape(client)
    client.post(
        "/articles", json={"articles": [{"id": "n1", "title": "Storm", "text": "A storm hit the coast."}]}
    )
    after = scrape(client)

    assert value(before, "qa_index_up") == 1
    assert (value(before, "qa_index_articles"), value(before, "qa_index_passages")) == (
        stats["articles"],
        stats["passages"],
    )
    assert value(before, "qa_index_version") == stats["version"]
    written = dt.datetime.fromisoformat(stats["created"]).timestamp()
    assert value(before, "qa_index_last_write_timestamp_seconds") == written
    assert value(after, "qa_index_articles") == stats["articles"] + 1
    assert value(after, "qa_index_version") == client.get("/health").json()["version"] > stats["version"]


def test_without_an_index_the_index_is_reported_down(tmp_path: Path, fake_encoder: FakeEncoder) -> None:
    empty = build_service(tmp_path / "empty", fake_encoder)
    with TestClient(create_app(Settings(index_dir=tmp_path / "empty"), lambda: empty), base_url=LOCAL) as c:
        text = scrape(c)

    assert value(text, "qa_index_up") == 0
    assert not any(name.startswith("qa_index_articles") for name, _ in samples(text))


def test_metrics_can_be_turned_off(make_client: ClientFactory) -> None:
    client = make_client(metrics=False)

    assert client.get("/health").status_code == 200
    assert client.get("/metrics").status_code == 404


def test_head_requests_count_as_head_under_their_route(client: TestClient) -> None:
    client.head("/health")
    client.head("/health")

    assert value(scrape(client), REQUESTS, method="HEAD", route="/health", status="200") == 2
