"""A deterministic fake encoder: bag of hashed words, so texts sharing words are similar."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

import numpy as np

_WORD = re.compile(r"\w+")


class FakeEncoder:
    """Implements `embeddings.encoders.Encoder` without a model; one token per word or symbol."""

    def __init__(self, dim: int = 64, max_tokens: int = 64, identity: str = "fake@0:test") -> None:
        self.dim, self.max_tokens, self.identity = dim, max_tokens, identity
        self.calls: list[int] = []  # batch sizes passed to encode_documents

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return [len(re.findall(r"\w+|[^\w\s]", t)) for t in texts]

    def _encode(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), np.float32)
        for row, text in enumerate(texts):
            for word in _WORD.findall(text.lower()):
                h = int.from_bytes(hashlib.md5(word.encode()).digest()[:4], "little")
                out[row, h % self.dim] += 1.0
            out[row, -1] += 0.01  # no zero vectors
        return out / np.linalg.norm(out, axis=1, keepdims=True)

    def encode_documents(self, texts: Sequence[str]) -> np.ndarray:
        self.calls.append(len(texts))
        return self._encode(texts)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts)
