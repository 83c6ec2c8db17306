"""Retrieval: dense and lexical candidates, fused, filtered by date and source, shaped into hits."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from embeddings.index import Snapshot
from embeddings.metadata import PassageRow
from qa.highlight import best_sentence, question_terms
from qa.hits import Hit


@dataclass(frozen=True, slots=True)
class RetrievalConfig:
    """How candidates are found and ranked; every default is justified in docs/BENCHMARKS.md."""

    candidates: int = 100
    lexical: bool = True
    fusion: str = "rrf"
    article_weight: float = 0.0
    strip_time: bool = True
    rrf_k: int = 60
    dense_weight: float = 1.0
    lexical_weight: float = 1.5
    max_per_article: int = 1
    collapse_duplicates: bool = True
    time_boost: float = 0.5
    time_filter: bool = False
    recency_half_life_days: float = 180.0
    recency_weight: float = 0.5
    highlight: bool = True
    highlight_corpus_idf: bool = True


@dataclass(frozen=True, slots=True)
class Filters:
    """Hard restrictions: dates inclusive (undated articles excluded); `as_of` drops later articles."""

    since: dt.date | None = None
    until: dt.date | None = None
    sources: tuple[str, ...] = ()
    as_of: dt.date | None = None


def allowed_ids(snapshot: Snapshot, filters: Filters, max_date: dt.date | None) -> np.ndarray | None:
    """Passage ids the filters allow, or None when they allow everything."""
    as_of = filters.as_of if (filters.as_of and max_date and filters.as_of < max_date) else None
    if filters.since is None and filters.until is None and not filters.sources and as_of is None:
        return None
    return snapshot.meta.filtered_passage_ids(filters.since, filters.until, filters.sources or None, as_of)


def retrieve(
    snapshot: Snapshot,
    question: str,
    query_vector: np.ndarray,
    k: int,
    *,
    allowed: np.ndarray | None,
    window: tuple[dt.date | None, dt.date | None] | None,
    as_of: dt.date,
    config: RetrievalConfig,
) -> list[Hit]:
    """The k best passages for a question.

    Args:
        query_vector: `(dim,)` unit vector of the question.
        allowed: passage ids a hit must come from (None: any).
        window: a date window read from the question; articles inside it are preferred
            (or required, with `config.time_filter`).
    """
    n = max(config.candidates, 4 * k)
    scores = _fuse(snapshot, question, query_vector, n, allowed, config)
    if not scores:
        return []
    rows = snapshot.meta.passages(scores, with_text=False)
    for pid, row in rows.items():
        scores[pid] *= _date_factor(row.date, window, as_of, config)
    if config.article_weight:
        _add_article_evidence(rows, scores, config.article_weight)
    if window is not None and config.time_filter:
        rows = {p: r for p, r in rows.items() if _inside(r.date, window)}
    ranked = sorted(rows.values(), key=lambda r: (-scores[r.id], r.id))
    hits = _shape(snapshot, ranked, scores, k, config)
    texts = snapshot.meta.passages([h.passage_id for h in hits])
    hits = [replace(h, text=texts[h.passage_id].text) for h in hits]
    if config.highlight:
        idf = _corpus_idf(snapshot, question) if config.highlight_corpus_idf else None
        hits = [_with_highlight(question, h, idf) for h in hits]
    return hits


def _fuse(
    snapshot: Snapshot,
    question: str,
    query_vector: np.ndarray,
    n: int,
    allowed: np.ndarray | None,
    config: RetrievalConfig,
) -> dict[int, float]:
    """Fuse the dense and lexical candidate lists (dense alone when lexical is off).

    `rrf`: weighted reciprocal-rank fusion. `linear`: a convex mix of the dense cosine and the
    BM25 score scaled by the best BM25 score of the query (absent from a list counts as 0).
    """
    d_scores, d_ids = snapshot.store.search(query_vector.reshape(1, -1), n, allowed)
    dense = [(int(i), float(s)) for s, i in zip(d_scores[0], d_ids[0], strict=True) if i >= 0]
    lexical: list[tuple[int, float]] = []
    if config.lexical and snapshot.lexical is not None:
        l_scores, l_ids = snapshot.lexical.search(question, n, allowed)
        lexical = [(int(i), float(s)) for s, i in zip(l_scores, l_ids, strict=True)]
    fused: dict[int, float] = {}
    if config.fusion == "linear":
        top = lexical[0][1] if lexical else 1.0
        for pid, score in dense:
            fused[pid] = config.dense_weight * score
        for pid, score in lexical:
            fused[pid] = fused.get(pid, 0.0) + config.lexical_weight * score / top
        return fused
    for rank, (pid, _) in enumerate(dense):
        fused[pid] = config.dense_weight / (config.rrf_k + rank + 1)
    for rank, (pid, _) in enumerate(lexical):
        fused[pid] = fused.get(pid, 0.0) + config.lexical_weight / (config.rrf_k + rank + 1)
    return fused


def _add_article_evidence(rows: dict[int, PassageRow], scores: dict[int, float], weight: float) -> None:
    """Credit every passage of an article with its article's next-best candidate passages.

    An article that matches the question in several places is more likely about it than one
    with a single lucky passage.
    """
    by_article: dict[str, list[float]] = {}
    for pid, row in rows.items():
        by_article.setdefault(row.article_id, []).append(scores[pid])
    bonus = {a: sum(sorted(v, reverse=True)[1:3]) for a, v in by_article.items()}
    for pid, row in rows.items():
        scores[pid] += weight * bonus[row.article_id]


def _inside(date: dt.date | None, window: tuple[dt.date | None, dt.date | None]) -> bool:
    since, until = window
    return date is not None and (since is None or date >= since) and (until is None or date <= until)


def _date_factor(
    date: dt.date | None,
    window: tuple[dt.date | None, dt.date | None] | None,
    as_of: dt.date,
    config: RetrievalConfig,
) -> float:
    factor = 1.0
    if window is not None and config.time_boost and _inside(date, window):
        factor *= 1.0 + config.time_boost
    if config.recency_weight and config.recency_half_life_days > 0 and date is not None:
        age = max(0, (as_of - date).days)
        factor *= 1.0 + config.recency_weight * math.pow(0.5, age / config.recency_half_life_days)
    return factor


def _shape(
    snapshot: Snapshot,
    ranked: Sequence[PassageRow],
    scores: dict[int, float],
    k: int,
    config: RetrievalConfig,
) -> list[Hit]:
    """Collapse syndicated copies and cap passages per article, so other articles get seen."""
    duplicates = (
        snapshot.meta.duplicate_passages([r.text_hash for r in ranked[: 4 * k]])
        if config.collapse_duplicates
        else {}
    )
    kept: list[Hit] = []
    overflow: list[Hit] = []
    seen_text: set[str] = set()
    per_article: dict[str, int] = {}
    for row in ranked:
        if config.collapse_duplicates:
            if row.text_hash in seen_text:
                continue
            seen_text.add(row.text_hash)
        others = tuple(sorted(a for a in duplicates.get(row.text_hash, ()) if a != row.article_id))
        hit = Hit.from_row(row, scores[row.id])
        if others:
            hit = replace(hit, duplicates=others)
        count = per_article.get(row.article_id, 0)
        per_article[row.article_id] = count + 1
        (kept if count < config.max_per_article else overflow).append(hit)
        if len(kept) >= k:
            break
    return (kept + overflow)[:k]


def _corpus_idf(snapshot: Snapshot, question: str) -> Callable[[str], float] | None:
    """Weights of the question's terms for the highlight: their idf over the whole archive.

    A name that occurs in a handful of passages says more about where the answer is than a word
    every article uses, which the passage's own few sentences cannot tell apart.
    """
    if snapshot.lexical is None:
        return None
    terms = question_terms(question)
    idf = snapshot.lexical.idf([w for words in terms.values() for w in words])
    weights = {term: max(idf[w] for w in words) for term, words in terms.items()}
    return lambda term: weights.get(term, 0.0)


def _with_highlight(question: str, hit: Hit, idf: Callable[[str], float] | None) -> Hit:
    h = best_sentence(question, hit.text, idf=idf)
    return replace(hit, highlight=h.text, highlight_start=h.start, highlight_end=h.end)
