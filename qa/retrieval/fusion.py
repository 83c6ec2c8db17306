"""Fusion of the dense and lexical candidate lists, by name: a registry that rejects unknown names."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from embeddings.backends import Candidates
from qa.retrieval.config import RetrievalConfig

# Candidates -> (passage ids, fused scores), in order of first appearance (dense first).
Fusion = Callable[[Candidates, RetrievalConfig], tuple[np.ndarray, np.ndarray]]


def rrf(candidates: Candidates, config: RetrievalConfig) -> tuple[np.ndarray, np.ndarray]:
    """Weighted reciprocal-rank fusion: w / (rrf_k + rank) summed over the lists a passage is in."""
    fused: dict[int, float] = {}
    for rank, pid in enumerate(candidates.dense_ids.tolist()):
        fused[pid] = config.dense_weight / (config.rrf_k + rank + 1)
    for rank, pid in enumerate(candidates.lexical_ids.tolist()):
        fused[pid] = fused.get(pid, 0.0) + config.lexical_weight / (config.rrf_k + rank + 1)
    return _arrays(fused)


def linear(candidates: Candidates, config: RetrievalConfig) -> tuple[np.ndarray, np.ndarray]:
    """A convex mix of the dense cosine and the BM25 score scaled by the query's best BM25 score
    (absent from a list counts as 0)."""
    lexical = candidates.lexical_scores.tolist()
    top = (lexical[0] if lexical else 0.0) or 1.0  # a backend may list zero-score matches
    fused: dict[int, float] = {}
    for pid, score in zip(candidates.dense_ids.tolist(), candidates.dense_scores.tolist(), strict=True):
        fused[pid] = config.dense_weight * score
    for pid, score in zip(candidates.lexical_ids.tolist(), lexical, strict=True):
        fused[pid] = fused.get(pid, 0.0) + config.lexical_weight * score / top
    return _arrays(fused)


FUSIONS: dict[str, Fusion] = {"rrf": rrf, "linear": linear}


def fuse(candidates: Candidates, config: RetrievalConfig) -> tuple[np.ndarray, np.ndarray]:
    """`(ids, scores)` of the fused candidates (int64, float64), by `config.fusion`."""
    return FUSIONS[config.fusion](candidates, config)


def _arrays(fused: dict[int, float]) -> tuple[np.ndarray, np.ndarray]:
    ids = np.fromiter(fused, dtype=np.int64, count=len(fused))
    scores = np.fromiter(fused.values(), dtype=np.float64, count=len(fused))
    return ids, scores
