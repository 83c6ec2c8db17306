"""A test service over a fake encoder (`build_service`) and the type of the `make_client` fixture."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from embeddings.backends import Backend
from embeddings.chunking import ChunkingConfig
from qa.service import QAService
from tests.support.fakes import FakeEncoder

ClientFactory = Callable[..., TestClient]

# The base URL test clients use: a loopback server without a token answers only its loopback names
# (Starlette's default, `testserver`, is not one).
LOCAL = "http://localhost"


def build_service(index: Path | Backend, encoder: FakeEncoder, **options: Any) -> QAService:
    """A service over `index` (a local index directory or a backend) with passages of a few sentences
    and no overlap."""
    options.setdefault("chunking", ChunkingConfig(size=20, overlap=0, max_tokens=encoder.max_tokens))
    return QAService(index, encoder, reload_interval=0, **options)
