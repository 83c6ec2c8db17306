"""Encoders: text to L2-normalised float32 vectors, behind one small contract."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class Encoder(Protocol):
    """What the chunker, index and retriever need from a model.

    `identity` names the model and variant that produced vectors (recorded in the index;
    opening an index with another identity is an error). Vectors are `(n, dim)` float32,
    L2-normalised, so inner product is cosine similarity.
    """

    identity: str
    dim: int
    max_tokens: int

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Number of model tokens of each text, special tokens excluded."""
        ...

    def encode_documents(self, texts: Sequence[str]) -> np.ndarray:
        """Embed passages: `(len(texts), dim)` float32, unit rows."""
        ...

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Embed questions: `(len(texts), dim)` float32, unit rows."""
        ...
