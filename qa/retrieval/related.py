"""Related articles: other articles about the same event, by passage vectors, words and dates.

Modes (`RetrievalConfig.related`):
- `dense`: a dense search with the centroid of the article's passage vectors, each other article
  scored by its best passage (the first implementation, kept as a reference).
- `lexical`: a BM25 query of the article's title and first 600 characters.
- `hybrid` (default): both lists fused by reciprocal rank at the article level, times a
  preference for articles published near it, with syndicated copies shown once
  (`collapse_duplicates`).
"""

from __future__ import annotations

import numpy as np

from embeddings.articles import Article
from embeddings.backends import UNDATED, Filters, IndexReader
from embeddings.errors import ArticleNotFoundError
from qa.hits import RelatedArticle
from qa.retrieval.config import RetrievalConfig

RELATED_MODES = ("dense", "hybrid", "lexical")
LEAD_CHARS = 600  # of the article's text, after its title, in the lexical query


def related(
    reader: IndexReader, article_id: str, k: int, config: RetrievalConfig | None = None
) -> list[RelatedArticle]:
    """The k articles most related to `article_id` (never itself), best first."""
    config = config or RetrievalConfig()
    own = reader.article_passages(article_id)
    article = reader.article(article_id)
    if not len(own) or article is None:
        raise ArticleNotFoundError(f"no article with id {article_id!r}")
    centroid = reader.vectors(own).mean(axis=0)
    centroid /= max(float(np.linalg.norm(centroid)), 1e-12)
    text = f"{article.title}\n{article.text[:LEAD_CHARS]}" if config.related != "dense" else None
    found = reader.candidates(centroid, text, len(own) + 20 * k, Filters())
    if config.related == "dense":
        return _articles(reader, article_id, found.dense_ids, found.dense_scores, k)
    if config.related == "lexical":
        return _articles(reader, article_id, found.lexical_ids, found.lexical_scores, k)
    ids, scores, texts = _hybrid(reader, found.dense_ids, found.lexical_ids, article, own, config)
    return _articles(reader, article_id, ids, scores, k, texts if config.collapse_duplicates else None)


def _hybrid(
    reader: IndexReader,
    dense: np.ndarray,
    lexical: np.ndarray,
    article: Article,
    own: np.ndarray,
    config: RetrievalConfig,
) -> tuple[np.ndarray, np.ndarray, list[set[int]]]:
    """Each other article's best passage, scored by RRF over article ranks × nearness in time,
    best first, with the text numbers of each article's candidate passages."""
    mine = int(reader.columns(own[:1]).articles[0])
    score: dict[int, float] = {}
    best: dict[int, int] = {}
    texts: dict[int, set[int]] = {}
    for ids, weight in ((dense, 1.0), (lexical, config.related_lexical_weight)):
        if not len(ids):
            continue
        columns = reader.columns(ids)
        seen: set[int] = set()
        for pid, number, text in zip(
            ids.tolist(), columns.articles.tolist(), columns.texts.tolist(), strict=True
        ):
            if number == mine:
                continue
            texts.setdefault(number, set()).add(text)
            if number in seen:
                continue
            seen.add(number)
            score[number] = score.get(number, 0.0) + weight / (config.rrf_k + len(seen))
            best.setdefault(number, pid)
    if not best:
        return np.zeros(0, np.int64), np.zeros(0), []
    pids = np.fromiter(best.values(), dtype=np.int64, count=len(best))
    values = np.array([score[n] for n in best])
    if article.date is not None and config.related_half_life_days > 0:
        days = reader.columns(pids).days
        gap = np.abs(days - article.date.toordinal()).astype(np.float64)
        near = np.where(days != UNDATED, np.power(0.5, gap / config.related_half_life_days), 0.0)
        values = values * (1.0 + config.related_time_weight * near)
    order = np.lexsort((pids, -values))
    numbers = list(best)
    return pids[order], values[order], [texts[numbers[i]] for i in order.tolist()]


def _articles(
    reader: IndexReader,
    article_id: str,
    ids: np.ndarray,
    scores: np.ndarray,
    k: int,
    texts: list[set[int]] | None = None,
) -> list[RelatedArticle]:
    """The first k distinct other articles of ranked passages; with `texts` (per passage, its
    article's text numbers), an article sharing a passage text with one shown (a syndicated copy)
    is left out."""
    rows = reader.passages(ids.tolist())
    best: dict[str, float] = {}
    shown: set[int] = set()
    for n, (pid, score) in enumerate(zip(ids.tolist(), scores.tolist(), strict=True)):
        row = rows.get(pid)
        if row is None or row.article_id == article_id or row.article_id in best:
            continue
        if texts is not None:
            if texts[n] & shown:
                continue
            shown |= texts[n]
        best[row.article_id] = float(score)
        if len(best) == k:
            break
    out = []
    for aid, score in best.items():
        a = reader.article(aid)
        if a is not None:
            out.append(RelatedArticle(a.id, a.title, a.date, a.source, a.url, score))
    return out
