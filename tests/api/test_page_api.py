"""What the page asks of the API: time words ignored on request (`interpret`), the archive's sources."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from qa.api import create_app
from qa.settings import Settings
from tests.support.fakes import FakeEncoder
from tests.support.services import LOCAL, build_service

QUESTION = "What happened in November 2023?"
LATER = "2025-01-01"


def test_ask_reads_time_words_unless_told_not_to(client: TestClient) -> None:
    read = client.post("/ask", json={"question": QUESTION, "as_of": LATER}).json()
    ignored = client.post("/ask", json={"question": QUESTION, "as_of": LATER, "interpret": False}).json()

    window = {k: read["interpreted"][k] for k in ("since", "until", "text")}
    assert window == {"since": "2023-11-01", "until": "2023-11-30", "text": "in November 2023"}
    assert ignored["interpreted"] is None
    assert ignored["hits"]


def test_search_and_batch_take_interpret_too(client: TestClient) -> None:
    searched = client.get("/search", params={"question": QUESTION, "as_of": LATER, "interpret": "false"})
    batch = client.post("/ask/batch", json={"questions": [QUESTION], "as_of": LATER, "interpret": False})
    asked = client.post("/ask", json={"question": QUESTION, "as_of": LATER, "interpret": False})

    assert searched.status_code == batch.status_code == 200
    assert searched.json() == asked.json()
    assert batch.json()["answers"][0]["interpreted"] is None
    assert client.get("/search", params={"question": QUESTION, "as_of": LATER}).json()["interpreted"]


def test_sources_lists_every_source_by_articles_and_the_newest_date(client: TestClient) -> None:
    response = client.get("/sources")

    assert response.status_code == 200, response.text
    assert response.json() == {
        "sources": [
            {"name": "News.Az", "articles": 3},
            {"name": "Azernews", "articles": 2},  # ties by name: the same on every backend
            {"name": "Reuters", "articles": 2},
        ],
        "newest": "2024-02-15",
    }


def test_sources_without_an_index_is_503_with_a_message(tmp_path: Path, fake_encoder: FakeEncoder) -> None:
    empty = build_service(tmp_path / "empty", fake_encoder)
    with TestClient(create_app(Settings(index_dir=tmp_path / "empty"), lambda: empty), base_url=LOCAL) as c:
        response = c.get("/sources")

    assert response.status_code == 503 and "qa index" in response.json()["detail"]
