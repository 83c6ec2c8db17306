"""FAISS backend: exact inner-product search over unit vectors, keyed by passage id."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import faiss
import numpy as np

FILENAME = "vectors.faiss"


class FaissStore:
    """`IndexIDMap2` over an exact `IndexFlatIP`; see `embeddings.stores.base.VectorStore`."""

    backend: ClassVar[str] = "faiss"

    def __init__(self, index: faiss.Index) -> None:
        self._index = index
        self.dim: int = index.d

    @classmethod
    def create(cls, dim: int, options: dict[str, object]) -> FaissStore:
        return cls(faiss.IndexIDMap2(faiss.IndexFlatIP(dim)))

    @classmethod
    def load(cls, directory: Path, options: dict[str, object]) -> FaissStore:
        return cls(faiss.read_index(str(directory / FILENAME)))

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        if len(ids):
            self._index.add_with_ids(_rows(vectors), np.ascontiguousarray(ids, dtype=np.int64))

    def remove(self, ids: np.ndarray) -> int:
        if not len(ids):
            return 0
        return int(self._index.remove_ids(faiss.IDSelectorBatch(np.asarray(ids, dtype=np.int64))))

    def search(
        self, queries: np.ndarray, k: int, allowed: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        queries = _rows(queries)
        m = queries.shape[0]
        if k <= 0 or len(self) == 0 or (allowed is not None and len(allowed) == 0):
            return np.full((m, max(k, 0)), -np.inf, np.float32), np.full((m, max(k, 0)), -1, np.int64)
        params = None
        if allowed is not None:
            params = faiss.SearchParameters(sel=faiss.IDSelectorBatch(np.asarray(allowed, dtype=np.int64)))
        scores, ids = self._index.search(queries, k, params=params)
        scores[ids < 0] = -np.inf
        return scores, ids

    def vectors(self, ids: np.ndarray) -> np.ndarray:
        out = np.empty((len(ids), self.dim), np.float32)
        for row, i in enumerate(np.asarray(ids, dtype=np.int64)):
            out[row] = self._index.reconstruct(int(i))
        return out

    def ids(self) -> np.ndarray:
        return faiss.vector_to_array(self._index.id_map).astype(np.int64)

    def save(self, directory: Path) -> None:
        faiss.write_index(self._index, str(directory / FILENAME))


def _rows(x: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(x, dtype=np.float32).reshape(-1, x.shape[-1])
