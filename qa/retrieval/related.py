"""Related articles: the articles whose passages lie closest to a given article's passages."""

from __future__ import annotations

import numpy as np

from embeddings.backends import Filters, IndexReader
from embeddings.errors import ArticleNotFoundError
from qa.hits import RelatedArticle


def related(reader: IndexReader, article_id: str, k: int) -> list[RelatedArticle]:
    """The k articles most similar to `article_id` (never itself): a dense search with the centroid
    of its passage vectors, each other article scored by its best passage."""
    own = reader.article_passages(article_id)
    if not len(own):
        raise ArticleNotFoundError(f"no article with id {article_id!r}")
    centroid = reader.vectors(own).mean(axis=0)
    centroid /= max(float(np.linalg.norm(centroid)), 1e-12)
    found = reader.candidates(centroid, None, len(own) + 20 * k, Filters())
    rows = reader.passages(found.dense_ids.tolist())
    best: dict[str, float] = {}
    for pid, score in zip(found.dense_ids.tolist(), found.dense_scores.tolist(), strict=True):
        row = rows.get(pid)
        if row is not None and row.article_id != article_id and row.article_id not in best:
            best[row.article_id] = float(score)
    out = []
    for aid, score in sorted(best.items(), key=lambda kv: -kv[1])[:k]:
        a = reader.article(aid)
        if a is not None:
            out.append(RelatedArticle(a.id, a.title, a.date, a.source, a.url, score))
    return out
