"""Shared fixtures: a fake encoder, hand-made articles, a service and a client (helpers: tests/support/)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from embeddings.articles import Article
from qa.api import create_app
from qa.service import QAService
from qa.settings import Settings
from tests.support.articles import make_articles
from tests.support.fakes import FakeEncoder
from tests.support.services import LOCAL, ClientFactory, build_service


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
def make_client(service: QAService, tmp_path: Path) -> Iterator[ClientFactory]:
    """Open test clients over `service` with settings overrides, e.g. `make_client(api_token="t")`."""
    clients: list[TestClient] = []

    def make(**overrides: Any) -> TestClient:
        root = getattr(service.backend, "root", tmp_path)  # a backend without files: the test's folder
        settings = Settings(index_dir=root, reload_interval=0, **overrides)
        client = TestClient(
            create_app(settings, lambda: service), base_url=LOCAL, raise_server_exceptions=False
        )
        clients.append(client)
        return client.__enter__()

    yield make
    for client in reversed(clients):
        client.__exit__(None, None, None)


@pytest.fixture
def client(service: QAService, tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(index_dir=tmp_path, reload_interval=0)
    # Server errors come back as 500 responses (which tests assert never happen) instead of raising.
    with TestClient(
        create_app(settings, lambda: service), base_url=LOCAL, raise_server_exceptions=False
    ) as c:
        yield c


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--backend",
        action="append",
        default=[],
        help="run the backend contract suite against this backend (repeatable; default: every one"
        " in tests/support/backends.py)",
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend_name" in metafunc.fixturenames:
        from tests.support.backends import BACKEND_FACTORIES

        names = metafunc.config.getoption("backend") or sorted(BACKEND_FACTORIES)
        unknown = sorted(set(names) - set(BACKEND_FACTORIES))
        if unknown:
            raise pytest.UsageError(f"--backend {unknown}: choices are {sorted(BACKEND_FACTORIES)}")
        from tests.support.backends import NEEDS_SERVER

        marked = [pytest.param(n, marks=pytest.mark.milvus_server) if n in NEEDS_SERVER else n for n in names]
        metafunc.parametrize("backend_name", marked)
