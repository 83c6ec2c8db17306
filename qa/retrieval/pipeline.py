"""The retrieval pipeline: candidates from the backend, fusion, ranking, reranking, shaping."""

from __future__ import annotations

import datetime as dt

import numpy as np

from embeddings.backends import Filters, IndexReader
from qa.hits import Hit
from qa.retrieval import ranking, shaping
from qa.retrieval.config import RetrievalConfig
from qa.retrieval.fusion import fuse
from qa.retrieval.ranking import Window
from qa.retrieval.rerankers import Reranker, RerankInput, keep_order


def retrieve(
    reader: IndexReader,
    question: str,
    vector: np.ndarray,
    k: int,
    *,
    filters: Filters,
    window: Window | None,
    as_of: dt.date,
    config: RetrievalConfig,
    reranker: Reranker = keep_order,
) -> list[Hit]:
    """The k best passages for a question.

    Candidates are ranked and shaped with the backend's per-passage columns (day, article, text)
    alone; rows and text are read only for the k returned.

    Args:
        vector: `(dim,)` unit vector of the question.
        filters: hard restrictions, pushed into the backend's candidate search.
        window: a date window read from the question; articles inside it are preferred
            (or required, with `config.time_filter`).
        as_of: the archive's "now", from which recency is measured.
    """
    n = max(config.candidates, 4 * k)
    candidates = reader.candidates(vector, question if config.lexical else None, n, filters)
    ids, scores = fuse(candidates, config)
    if not len(ids):
        return []
    columns = reader.columns(ids)
    scores *= ranking.date_factors(columns.days, window, as_of, config)
    if window is not None and config.time_filter:
        keep = ranking.inside(columns.days, window)
        ids, scores = ids[keep], scores[keep]
        columns = type(columns)(*(c[keep] for c in columns))
    if config.article_weight:
        scores = ranking.with_article_evidence(columns.articles, scores, config.article_weight)
    if reranker is not keep_order:
        order = np.lexsort((ids, -scores))  # the reranker sees the ranking, best first
        ids, scores = ids[order], scores[order]
        columns = type(columns)(*(c[order] for c in columns))
        scores = reranker(RerankInput(question, vector, ids, scores, columns, reader))
    order = np.lexsort((ids, -scores))
    ranked, articles, texts = ids[order], columns.articles[order], columns.texts[order]
    chosen = shaping.choose(articles, texts, k, config)
    neighbours = shaping.adjacent(ranked, articles, chosen) if config.merge_adjacent else {}
    shared = reader.text_copies(texts[chosen]) > 1
    return shaping.hits(reader, question, ranked[chosen], scores[order][chosen], shared, neighbours, config)
