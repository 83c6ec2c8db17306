"""Index backends by name: a registry from config string (`QA_BACKEND`) to implementation."""

from __future__ import annotations

import importlib
from typing import Any

from embeddings.backends.base import (
    UNDATED,
    ArticleWrite,
    Backend,
    Candidates,
    Columns,
    Filters,
    IndexInfo,
    IndexReader,
    IndexSpec,
    PassageDraft,
    PassageRow,
    VersionCheck,
    WriteTransaction,
)
from embeddings.errors import ConfigurationError

__all__ = [
    "BACKENDS",
    "UNDATED",
    "ArticleWrite",
    "Backend",
    "Candidates",
    "Columns",
    "Filters",
    "IndexInfo",
    "IndexReader",
    "IndexSpec",
    "PassageDraft",
    "PassageRow",
    "VersionCheck",
    "WriteTransaction",
    "create_backend",
]

# name -> (module, class, pip package that provides the engine)
BACKENDS: dict[str, tuple[str, str, str]] = {
    "local": ("embeddings.backends.local", "LocalBackend", "faiss-cpu"),
    "milvus": ("embeddings.backends.milvus.backend", "MilvusBackend", "pymilvus milvus-lite"),
}


def create_backend(name: str, **options: Any) -> Backend:
    """The backend `name`, configured with its own keyword options (see each class)."""
    try:
        module, cls, package = BACKENDS[name]
    except KeyError:
        raise ConfigurationError(
            f"unknown backend {name!r}; choices: {', '.join(sorted(BACKENDS))}"
        ) from None
    try:
        backend_class = getattr(importlib.import_module(module), cls)
    except ImportError as exc:
        raise ConfigurationError(f"backend {name!r} needs `pip install {package}` ({exc})") from exc
    return backend_class(**options)
