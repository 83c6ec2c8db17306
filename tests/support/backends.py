"""Backends the contract suite runs against, by name: each entry makes an empty backend in a folder."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from embeddings.backends import Backend
from embeddings.backends.local import LocalBackend


def local_at(root: Path) -> Backend:
    return LocalBackend(root)


def milvus_at(root: Path) -> Backend:
    """A Milvus Lite index in `root` (the engine runs in this process)."""
    from embeddings.backends.milvus.backend import MilvusBackend

    return MilvusBackend(root / "milvus.db", collection="test")


# name -> a backend whose files live in the given index directory
BACKENDS_AT: dict[str, Callable[[Path], Backend]] = {"local": local_at, "milvus": milvus_at}

# name -> factory of an empty backend whose files (if any) live under the given folder
BACKEND_FACTORIES: dict[str, Callable[[Path], Backend]] = {
    name: (lambda folder, at=at: at(folder / "index")) for name, at in BACKENDS_AT.items()
}
