"""Question vectors: the encoder's query embedding behind a small LRU cache, one question at a time."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence

import numpy as np

from embeddings.encoders import Encoder

QUERY_CACHE = 1024


class QueryVectors:
    """`(dim,)` unit vectors of questions; a repeated question is embedded once (LRU cache; thread-safe)."""

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
        found: dict[str, np.ndarray] = {}
        with self._lock:
            for q in questions:
                if q in self._cache:
                    self._cache.move_to_end(q)  # least recently used goes first
                    found[q] = self._cache[q]
        for q in dict.fromkeys(q for q in questions if q not in found):
            # One question at a time: int8 activations are quantised per batch, so a vector
            # computed beside other questions would differ (slightly) from the same question alone.
            found[q] = self.encoder.encode_queries([q])[0]
            with self._lock:
                self._cache[q] = found[q]
                while len(self._cache) > self.size:
                    self._cache.popitem(last=False)
        return [found[q] for q in questions]
