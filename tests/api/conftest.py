"""The API tests run over each backend: the shared `service` fixture, once per backend name."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from qa.service import QAService
from tests.support.articles import make_articles
from tests.support.backends import BACKENDS_AT
from tests.support.fakes import FakeEncoder
from tests.support.services import build_service


@pytest.fixture(scope="session")
def _built_milvus_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The articles indexed once per session in Milvus Lite; each test gets its own copy."""
    root = tmp_path_factory.mktemp("fake-milvus") / "index"
    qa = build_service(BACKENDS_AT["milvus"](root), FakeEncoder())
    qa.add(make_articles())
    qa.backend.close()  # type: ignore[attr-defined]  # the engine stops: its files complete
    return root


@pytest.fixture(params=sorted(BACKENDS_AT))
def service(request: pytest.FixtureRequest, tmp_path: Path, fake_encoder: FakeEncoder) -> Iterator[QAService]:
    """A service over a private copy of the indexed `articles` in each backend."""
    built = request.getfixturevalue("_built_index" if request.param == "local" else "_built_milvus_index")
    shutil.copytree(built, tmp_path / "index")
    qa = build_service(BACKENDS_AT[request.param](tmp_path / "index"), fake_encoder)
    yield qa
    close = getattr(qa.backend, "close", None)
    if close is not None:
        close()
