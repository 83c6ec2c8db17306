"""Shared fixtures: a fake encoder, hand-made articles, a service over them and a test client."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from embeddings.articles import Article
from embeddings.chunking import ChunkingConfig
from qa.api import create_app
from qa.service import QAService
from qa.settings import Settings
from tests.fakes import FakeEncoder

# Syndicated copies carry this paragraph word for word (it is one passage in both).
SHARED_PARAGRAPH = (
    "The Caspian pipeline consortium announced that crude oil exports through the western "
    "pipeline rose sharply this autumn."
)

ClientFactory = Callable[..., TestClient]


def make_articles() -> list[Article]:
    """Hand-made articles: dated and undated, several sources, two syndicated copies."""
    return [
        Article(
            "metro-opening",
            "Baku metro opens a new station",
            "The Baku metro opened a new station on the green line. Passengers crowded the platform "
            "on the first morning.",
            dt.date(2023, 11, 1),
            "News.Az",
            "https://news.az/metro-opening",
        ),
        Article(
            "defense-visit",
            "Defense minister receives Pakistani delegation",
            "The defense minister received a Pakistani military delegation led by the army chief. "
            "They discussed military cooperation and joint exercises.",
            dt.date(2023, 11, 2),
            "News.Az",
            "https://news.az/defense-visit",
        ),
        Article(
            "cotton-harvest",
            "Record cotton harvest in the regions",
            "Farmers gathered a record cotton harvest this year. The ministry praised the farmers of the "
            "southern regions.",
            dt.date(2023, 5, 10),
            "Azernews",
            "https://azernews.az/cotton-harvest",
        ),
        Article(
            "football-win",
            "Qarabag wins the football derby",
            "Qarabag won the football derby with two late goals. The football club now leads the league.",
            dt.date(2023, 8, 20),
            "Reuters",
            "https://reuters.com/football-win",
        ),
        Article(
            "archive-note",
            "A note on metro history",
            "The first metro line of Baku was built decades ago. The metro history museum keeps old "
            "station plans.",
            None,
            None,
            None,
        ),
        Article(
            "pipeline-a",
            "Oil exports rise, consortium says",
            SHARED_PARAGRAPH + "\n\nAnalysts in Baku expect tanker traffic to grow next year.",
            dt.date(2023, 11, 3),
            "News.Az",
            "https://news.az/pipeline",
        ),
        Article(
            "pipeline-b",
            "Caspian crude flows grow",
            SHARED_PARAGRAPH + "\n\nEuropean refiners welcomed the additional supply in their statement.",
            dt.date(2023, 11, 4),
            "Azernews",
            "https://azernews.az/pipeline",
        ),
        Article(
            "quake-report",
            "Earthquake shakes the mountain villages",
            "An earthquake shook the mountain villages before dawn.\n\n"
            "Rescue teams reached the earthquake zone by noon and searched collapsed houses.\n\n"
            "Engineers inspected earthquake damage to bridges and schools in the villages.\n\n"
            "The earthquake was the strongest in the mountain region for a decade, seismologists said.",
            dt.date(2024, 2, 15),
            "Reuters",
            "https://reuters.com/quake",
        ),
    ]


@pytest.fixture(autouse=True)
def _no_qa_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings are built from explicit arguments; a stray QA_* variable must not leak in."""
    for name in list(os.environ):
        if name.upper().startswith("QA_"):
            monkeypatch.delenv(name)


@pytest.fixture
def fake_encoder() -> FakeEncoder:
    return FakeEncoder()


@pytest.fixture
def articles() -> list[Article]:
    return make_articles()


def build_service(index_dir: Path, encoder: FakeEncoder, **options: Any) -> QAService:
    """A service over `index_dir` with passages of a few sentences and no overlap."""
    options.setdefault("chunking", ChunkingConfig(size=20, overlap=0, max_tokens=encoder.max_tokens))
    return QAService(index_dir, encoder, reload_interval=0, **options)


@pytest.fixture(scope="session")
def _built_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The articles indexed once per session; each test gets its own copy."""
    root = tmp_path_factory.mktemp("fake-index") / "index"
    build_service(root, FakeEncoder()).add(make_articles())
    return root


@pytest.fixture
def service(tmp_path: Path, fake_encoder: FakeEncoder, _built_index: Path) -> QAService:
    """A service over a private copy of the indexed `articles` (writes stay within the test)."""
    shutil.copytree(_built_index, tmp_path / "index")
    return build_service(tmp_path / "index", fake_encoder)


@pytest.fixture
def make_client(service: QAService) -> Iterator[ClientFactory]:
    """Open test clients over `service` with settings overrides, e.g. `make_client(api_token="t")`."""
    clients: list[TestClient] = []

    def make(**overrides: Any) -> TestClient:
        settings = Settings(index_dir=service.backend.root, reload_interval=0, **overrides)
        client = TestClient(create_app(settings, lambda: service), raise_server_exceptions=False)
        clients.append(client)
        return client.__enter__()

    yield make
    for client in reversed(clients):
        client.__exit__(None, None, None)


@pytest.fixture
def client(service: QAService) -> Iterator[TestClient]:
    settings = Settings(index_dir=service.backend.root, reload_interval=0)
    # Server errors come back as 500 responses (which tests assert never happen) instead of raising.
    with TestClient(create_app(settings, lambda: service), raise_server_exceptions=False) as c:
        yield c
