"""The vector-store contract of the local backend (FAISS today)."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Protocol

import numpy as np


class VectorStore(Protocol):
    """Unit vectors keyed by int64 passage ids, searched by inner product.

    Vectors are `(n, dim)` float32 rows; `search` returns `(scores, ids)`, both `(m, k)`, best
    first, padded with `-inf` / `-1` where fewer than k vectors qualify.
    """

    backend: ClassVar[str]
    dim: int

    def __len__(self) -> int: ...

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Insert `vectors` `(n, dim)` under `ids` `(n,)` int64 (ids must be new)."""
        ...

    def remove(self, ids: np.ndarray) -> int:
        """Delete the given ids; returns how many were present."""
        ...

    def search(
        self, queries: np.ndarray, k: int, allowed: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-k ids per query row, restricted to `allowed` ids `(a,)` when given."""
        ...

    def vectors(self, ids: np.ndarray) -> np.ndarray:
        """The stored vectors `(len(ids), dim)` of existing ids."""
        ...

    def ids(self) -> np.ndarray:
        """Every stored id, `(n,)` int64."""
        ...

    def save(self, directory: Path) -> None:
        """Write the store into `directory` (which exists and is private to this write)."""
        ...


class VectorStoreFactory(Protocol):
    def create(self, dim: int, options: dict[str, object]) -> VectorStore: ...

    def load(self, directory: Path, options: dict[str, object]) -> VectorStore: ...

    def check_options(self, options: dict[str, object]) -> None:
        """Raise `ConfigurationError` naming the first option `create` and `load` would refuse."""
        ...
