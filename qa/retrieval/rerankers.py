"""Rerankers by name: a contract for reordering ranked candidates, and the registry (default: none)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from embeddings.backends import Columns, IndexReader


@dataclass(frozen=True, slots=True)
class RerankInput:
    """Ranked candidates (best first: fused, dated, with article evidence) and what is known of them.

    `ids`, `scores` and each of `columns` are aligned `(n,)` arrays; `vector` is the `(dim,)`
    question vector; `reader` can fetch rows (`passages`) or vectors for the few it rescores.
    """

    question: str
    vector: np.ndarray
    ids: np.ndarray
    scores: np.ndarray
    columns: Columns
    reader: IndexReader


class Reranker(Protocol):
    """Returns new scores `(n,)` for the candidates; the pipeline sorts by them."""

    def __call__(self, candidates: RerankInput) -> np.ndarray: ...


def keep_order(candidates: RerankInput) -> np.ndarray:
    """The default: the ranking's own scores."""
    return candidates.scores


# name -> factory of the reranker (called once, when a service is built)
RERANKERS: dict[str, Callable[[], Reranker]] = {"none": lambda: keep_order}


def load_reranker(name: str) -> Reranker:
    return RERANKERS[name]()
