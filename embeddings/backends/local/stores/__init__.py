"""Vector stores of the local backend by name: a registry from config string to implementation."""

from __future__ import annotations

import importlib
from pathlib import Path

from embeddings.backends.local.stores.base import VectorStore
from embeddings.errors import ConfigurationError

__all__ = ["BACKENDS", "VectorStore", "check_options", "create_store", "load_store"]

# name -> (module, class, pip package that provides the engine)
BACKENDS: dict[str, tuple[str, str, str]] = {
    "faiss": ("embeddings.backends.local.stores.faiss_store", "FaissStore", "faiss-cpu"),
}


def _backend_class(name: str) -> type:
    try:
        module, cls, package = BACKENDS[name]
    except KeyError:
        raise ConfigurationError(
            f"unknown vector backend {name!r}; choices: {', '.join(sorted(BACKENDS))}"
        ) from None
    try:
        return getattr(importlib.import_module(module), cls)
    except ImportError as exc:
        raise ConfigurationError(f"vector backend {name!r} needs `pip install {package}` ({exc})") from exc


def create_store(name: str, dim: int, options: dict[str, object] | None = None) -> VectorStore:
    """A new, empty store of backend `name`."""
    return _backend_class(name).create(dim, options or {})


def load_store(name: str, directory: Path, options: dict[str, object] | None = None) -> VectorStore:
    """Open the store that backend `name` saved in `directory`."""
    return _backend_class(name).load(directory, options or {})


def check_options(name: str, options: dict[str, object]) -> None:
    """Refuse (`ConfigurationError`) the options backend `name` would refuse when opened."""
    _backend_class(name).check_options(options)
