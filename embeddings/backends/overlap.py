"""How much of a query's BM25 tokens each passage holds: evidence the BM25 score blurs.

BM25 rewards a passage that repeats one rare query word as much as one that holds all of them;
the share of the query's idf mass a passage covers, and of its word pairs it holds in order, tell
the two apart (the learned ranker reads both, `qa.retrieval.features`). Every backend computes them
the same way, from each passage's BM25 tokens (stopwords removed, stemmed, as indexed): the local
backend from the tokens its lexical index stores, Milvus from the passage texts.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from itertools import pairwise

import numpy as np

OVERLAP = ("coverage", "bigrams")  # columns of `token_overlap`


def idf(df: int, passages: int) -> float:
    """BM25 (Lucene) idf of a token held by `df` of `passages` passages (as `LexicalIndex.idf`)."""
    return math.log(1.0 + (passages - df + 0.5) / (df + 0.5)) if passages else 0.0


def query_codes(tokens: Sequence[str], code: Callable[[str], int | None]) -> list[int]:
    """The query's tokens as integer codes, in order: `code(token)` (the index's token number), or
    a distinct negative code for a token the passages never hold (it still weighs in the mass)."""
    unknown: dict[str, int] = {}
    out = []
    for token in tokens:
        known = code(token)
        out.append(known if known is not None else unknown.setdefault(token, -2 - len(unknown)))
    return out


def token_overlap(
    flat: np.ndarray, offsets: np.ndarray, query: Sequence[int], weights: dict[int, float]
) -> np.ndarray:
    """`(passages, 2)` float64: per passage, the share of the query's token weight it holds
    (`coverage`) and the share of its adjacent token pairs' weight (each pair weighs its lighter
    token) it holds adjacently, in order (`bigrams`).

    Args:
        flat: every passage's token codes (never negative) concatenated; passage `i` is
            `flat[offsets[i]:offsets[i + 1]]`.
        offsets: `(passages + 1,)` int64, starts at 0.
        query: the query's token codes in order (`query_codes`; repeats allowed).
        weights: the weight (idf) of each distinct code of `query`.
    """
    n = len(offsets) - 1
    out = np.zeros((n, 2))
    distinct = list(dict.fromkeys(query))
    weight = np.array([weights[c] for c in distinct], dtype=np.float64)
    mass = math.fsum(weight.tolist())
    if not n or not len(flat) or mass <= 0:
        return out
    # Each token's place among the query's distinct codes (-1: not a query token; a query has a
    # handful, so one comparison each beats a set look-up). Only the few tokens that are query
    # tokens are looked at after that: their passage and their neighbours.
    place = np.full(len(flat), -1, dtype=np.int64)
    for i, c in enumerate(distinct):
        if c >= 0:
            place[flat == c] = i
    at = np.flatnonzero(place >= 0)
    owner = np.searchsorted(offsets, at, side="right") - 1
    which = place[at]
    held = np.zeros((n, len(distinct)), dtype=bool)
    held[owner, which] = True
    out[:, 0] = _weighted(held, weight) / mass
    index = {c: i for i, c in enumerate(distinct)}
    pairs = list(dict.fromkeys((index[a], index[b]) for a, b in pairwise(query) if a != b))
    pair_weight = np.array([min(weight[a], weight[b]) for a, b in pairs], dtype=np.float64)
    pair_mass = math.fsum(pair_weight.tolist())
    if pairs and pair_mass > 0 and len(at) > 1:
        number = np.full((len(distinct), len(distinct)), -1, dtype=np.int64)
        for i, (a, b) in enumerate(pairs):
            number[a, b] = i
        next_to = (at[1:] == at[:-1] + 1) & (owner[1:] == owner[:-1])  # adjacent, one passage
        pair = number[which[:-1][next_to], which[1:][next_to]]
        found = pair >= 0
        table = np.zeros((n, len(pairs)), dtype=bool)
        table[owner[:-1][next_to][found], pair[found]] = True
        out[:, 1] = _weighted(table, pair_weight) / pair_mass
    return out


def _weighted(table: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Per row, the sum of `weight` where `table` is set, added column by column in order: the
    same bits on every CPU (a matrix product may sum in another order), so refits reproduce."""
    total = np.zeros(len(table))
    for j, w in enumerate(weight.tolist()):
        total += table[:, j] * w
    return total


def flatten(docs: Sequence[Sequence[int]]) -> tuple[np.ndarray, np.ndarray]:
    """`(flat, offsets)` of per-passage token code lists."""
    offsets = np.zeros(len(docs) + 1, dtype=np.int64)
    offsets[1:] = np.cumsum([len(d) for d in docs])
    flat = np.fromiter((t for d in docs for t in d), dtype=np.int64, count=int(offsets[-1]))
    return flat, offsets
