"""Question vectors: the encoder's query embedding behind a small LRU cache, one question at a time."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence

import numpy as np

from embeddings.encoders import Encoder

QUERY_CACHE = 1024


class QueryVectors:
    """`(dim,)` unit vectors of questions; a repeated question is embedded once (thread-safe)."""

    def __init__(self, encoder: Encoder, size: int = QUERY_CACHE) -> None:
        self.encoder, self.size = encoder, size
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def clear(self) -> None:
        with self._lock:
            self._cache.clear()

    def vector(self, question: str) -> np.ndarray:
        return self.vectors([question])[0]

    def vectors(self, questions: Sequence[str]) -> list[np.ndarray]:
        missing = list(dict.fromkeys(q for q in questions if q not in self._cache))
        if missing:
            # One question at a time: int8 activations are quantised per batch, so a vector
            # computed beside other questions would differ (slightly) from the same question alone.
            vectors = [self.encoder.encode_queries([q])[0] for q in missing]
            with self._lock:
                for q, v in zip(missing, vectors, strict=True):
                    self._cache[q] = v
                while len(self._cache) > self.size:
                    self._cache.popitem(last=False)
        out = []
        for q in questions:
            v = self._cache.get(q)
            out.append(v if v is not None else self.encoder.encode_queries([q])[0])
        return out
