"""Related articles: other articles about the same event, by passage vectors, words and dates.

Modes (`RetrievalConfig.related`):
- `learned` (default): the candidate articles of `related_features.related_pool` scored by a
  linear model over their features (`related_ranker.json`, shipped in the package; `qa
  train-ranker --related` refits it).
- `hybrid`: the centroid dense search and the BM25 query fused by reciprocal rank at the article
  level, times a preference for articles published near it.
- `dense`: a dense search with the centroid of the article's passage vectors, each other article
  scored by its best passage (the first implementation, kept as a reference).
- `lexical`: a BM25 query of the article's title and first 600 characters (a reference).

In `learned` and `hybrid`, with `collapse_duplicates`, an article sharing a passage's words with
one already shown (a syndicated copy) is not shown again but listed in that one's `copies`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from embeddings.articles import Article
from embeddings.backends import UNDATED, Filters, IndexReader, PassageRow
from embeddings.errors import ArticleNotFoundError
from qa.hits import RelatedArticle, RelatedCopy
from qa.retrieval.config import RetrievalConfig
from qa.retrieval.learned import load_related_ranker
from qa.retrieval.related_features import lexical_query, related_pool
from qa.retrieval.shaping import first_rows

RELATED_MODES = ("dense", "hybrid", "learned", "lexical")


def collapses(config: RetrievalConfig) -> bool:
    """Whether related articles are shown with syndicated copies folded in (`copies`), and
    without the article's own (`copies_of`): `learned` and `hybrid` with `collapse_duplicates`;
    the references `dense` and `lexical` list raw search results."""
    return config.collapse_duplicates and config.related in ("hybrid", "learned")


def copies_of(reader: IndexReader, article_id: str, own: np.ndarray | None = None) -> list[RelatedCopy]:
    """The syndicated copies of an article: the other articles holding one of its passages word
    for word, by id (none for an unknown article). `own`: its passage ids, when already read."""
    own = reader.article_passages(article_id) if own is None else own
    shared = own[reader.text_copies(reader.columns(own).texts) > 1] if len(own) else own
    if not len(shared):
        return []
    hashes = [row.text_hash for row in reader.passages(shared.tolist()).values()]
    others = sorted({a for ids in reader.duplicates(hashes).values() for a in ids} - {article_id})
    rows = first_rows(reader, others)
    return [RelatedCopy(a, r.date, r.source, r.url) for a, r in rows.items()]


def related(
    reader: IndexReader, article_id: str, k: int, config: RetrievalConfig | None = None
) -> list[RelatedArticle]:
    """The k articles most related to `article_id`, best first: never itself, nor, where the mode
    `collapses` copies, its own syndicated copies (`copies_of`: the same story, not another)."""
    return related_and_copies(reader, article_id, k, config)[0]


def related_and_copies(
    reader: IndexReader, article_id: str, k: int, config: RetrievalConfig | None = None
) -> tuple[list[RelatedArticle], list[RelatedCopy]]:
    """`related`, and the article's own copies it left out (none where the mode does not
    `collapses` copies): both from one reader, the copies looked up once."""
    config = config or RetrievalConfig()
    own = reader.article_passages(article_id)
    article = reader.article(article_id)
    if not len(own) or article is None:
        raise ArticleNotFoundError(f"no article with id {article_id!r}")
    copies = copies_of(reader, article_id, own) if collapses(config) else []
    return _related(reader, article, own, k, config, {c.article_id for c in copies}), copies


def _related(
    reader: IndexReader, article: Article, own: np.ndarray, k: int, config: RetrievalConfig, mine: set[str]
) -> list[RelatedArticle]:
    """The ranking of `related`, given the article, its passages and the copies `mine` to leave out."""
    article_id = article.id
    if config.related == "learned":
        pool = related_pool(reader, article, own, max(config.related_candidates, 20 * k))
        scores = load_related_ranker(config.related_ranker_path).score(pool.x)
        ranked = np.lexsort((np.arange(len(scores)), -scores)).tolist()
        order = [i for i in ranked if pool.rows[i].article_id not in mine]
        texts = [pool.texts[i] for i in order] if config.collapse_duplicates else None
        return _shape([pool.rows[i] for i in order], scores[order].tolist(), k, texts)
    centroid = reader.vectors(own).mean(axis=0)
    centroid /= max(float(np.linalg.norm(centroid)), 1e-12)
    text = lexical_query(article) if config.related != "dense" else None
    found = reader.candidates(centroid, text, len(own) + 20 * k, Filters())
    if config.related == "dense":
        ids, scores, texts = found.dense_ids, found.dense_scores, None
    elif config.related == "lexical":
        ids, scores, texts = found.lexical_ids, found.lexical_scores, None
    else:
        ids, scores, texts = _hybrid(reader, found.dense_ids, found.lexical_ids, article, own, config)
    rows = reader.passages(ids.tolist())
    ranked = [
        (rows[p], s, n)
        for n, (p, s) in enumerate(zip(ids.tolist(), scores.tolist(), strict=True))
        if p in rows
    ]
    by_article = [(r, s, n) for r, s, n in ranked if r.article_id != article_id and r.article_id not in mine]
    return _shape(
        [r for r, _, _ in by_article],
        [s for _, s, _ in by_article],
        k,
        [texts[n] for _, _, n in by_article] if texts is not None and config.collapse_duplicates else None,
    )


def _hybrid(
    reader: IndexReader,
    dense: np.ndarray,
    lexical: np.ndarray,
    article: Article,
    own: np.ndarray,
    config: RetrievalConfig,
) -> tuple[np.ndarray, np.ndarray, list[frozenset[int]]]:
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
    return pids[order], values[order], [frozenset(texts[numbers[i]]) for i in order.tolist()]


def _shape(
    rows: Sequence[PassageRow],
    scores: Sequence[float],
    k: int,
    texts: Sequence[frozenset[int]] | None = None,
) -> list[RelatedArticle]:
    """The first k distinct articles of ranked passage `rows` (each one's article's best first).

    With `texts` (aligned with `rows`: the text numbers of each one's article), an article sharing
    a passage text with one shown (a syndicated copy) is not shown again but listed in that one's
    copies, from the whole ranking, not only its first k.
    """
    shown: dict[str, tuple[PassageRow, float]] = {}
    copies: dict[str, dict[str, PassageRow]] = {}
    owner: dict[int, str] = {}  # text number -> the shown article that carries it
    for n, (row, score) in enumerate(zip(rows, scores, strict=True)):
        aid = row.article_id
        if aid in shown or any(aid in c for c in copies.values()):
            continue
        if texts is not None:
            mine = texts[n]
            first = next((owner[t] for t in mine if t in owner), None)
            if first is not None:
                copies[first].setdefault(aid, row)
                continue
            if len(shown) == k:
                continue  # only copies of the k shown are still wanted
            owner.update(dict.fromkeys(mine, aid))
        elif len(shown) == k:
            break
        shown[aid] = (row, float(score))
        copies[aid] = {}
    return [
        RelatedArticle(
            aid,
            row.title,
            row.date,
            row.source,
            row.url,
            score,
            tuple(RelatedCopy(c.article_id, c.date, c.source, c.url) for c in copies[aid].values()),
        )
        for aid, (row, score) in shown.items()
    ]
