"""Candidate articles for related articles, one row of features each (for the learned related ranker).

The pool: the articles of a dense search with the centroid of the article's passage vectors and
of a BM25 query of its title and lead (`LEAD_CHARS`), the article itself left out. Each candidate
article's passages are read whole (ids, vectors, columns), so the vector features compare
articles, not only the passages that happened to rank. Columns named by `RELATED_FEATURES`:

- `centroid`: cosine of the two articles' centroids; `centroid_best`: the article's centroid
  against the candidate's closest passage; `maxsim`: the closest pair of passages; `chamfer`: the
  mean over the article's passages of each one's closest candidate passage, `chamfer_back` the
  same from the candidate's side; `centroid_rank`, `maxsim_rank`, `chamfer_back_rank`: log(1 +
  the candidate's rank by each, from 0).
- `dense_rank`, `lexical_rank`, `mlt_rank`: log(1 + the candidate's rank among the articles of
  each list, from 0; absent: the list's article count); `*_absent`; `lexical`, `mlt`: its best
  BM25 score over the list's top score; `rrf`: 60/(61 + rank) summed over the dense and lexical
  lists. `mlt` is a second BM25 query, "more like this": the article's `MLT_WORDS` words of
  highest tf·idf over its whole text (it ranks the pool; it adds no candidates).
- `neighbours3`, `neighbours10`: the candidate's mean centroid cosine with the 3 (10) candidates
  closest to the article (articles of one event resemble one another, not only the article).
- `day`, `days3`, `week`, `month`, `year`: 2^(−days apart/half-life), 0 when either article is
  undated; `consensus_week`, `consensus_month`: the same against the median day of the 5
  candidates closest to the article; `undated`: the candidate is undated (`undated_pair`: one of
  the two is).
- `same_source`; `title_overlap` (Jaccard of title terms); `title_in_lead` (the share of the
  candidate's title terms found in the article's title and lead); `copy` (the candidate shares a
  passage text with the article: a syndicated copy); `hits` (log(1 + its passages among the dense
  and lexical candidates)); `length` (log of its passage count).
- `title_coverage`: the best of the candidate's passages at holding the article's title words,
  idf-weighted (`IndexReader.overlap`; passages are indexed with their title): the event's names
  anywhere in the other article, not only in its title.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from embeddings.articles import Article
from embeddings.backends import UNDATED, Filters, IndexReader, PassageRow
from embeddings.text import STOPWORDS, terms

LEAD_CHARS = 600  # of the article's text, after its title, in the lexical query
MLT_WORDS = 30  # of the article, in the "more like this" query
_HALF_LIVES = (("day", 1.0), ("days3", 3.0), ("week", 7.0), ("month", 30.0), ("year", 365.0))
_CONSENSUS = 5  # candidates closest to the article whose days agree on when the event was
_WORDS = re.compile(r"\w+")
RELATED_FEATURES: tuple[str, ...] = (
    "centroid",
    "centroid_best",
    "maxsim",
    "chamfer",
    "chamfer_back",
    "dense_rank",
    "dense_absent",
    "lexical",
    "lexical_rank",
    "lexical_absent",
    "rrf",
    "mlt",
    "mlt_rank",
    "mlt_absent",
    "centroid_rank",
    "maxsim_rank",
    "chamfer_back_rank",
    "neighbours3",
    "neighbours10",
    *(name for name, _ in _HALF_LIVES),
    "consensus_week",
    "consensus_month",
    "undated",
    "undated_pair",
    "same_source",
    "title_overlap",
    "title_in_lead",
    "copy",
    "hits",
    "length",
    "title_coverage",
)
_COL = {name: j for j, name in enumerate(RELATED_FEATURES)}


@dataclass(frozen=True, slots=True)
class RelatedPool:
    """The candidate articles of one article, aligned: `rows` (each one's best-ranked passage, with
    its article's id, title, date, source and url), `texts` (the text numbers of its passages:
    syndicated copies share one) and `x` `(len(rows), len(RELATED_FEATURES))` float64."""

    rows: list[PassageRow]
    texts: list[frozenset[int]]
    x: np.ndarray


def lexical_query(article: Article) -> str:
    """The BM25 query of an article: its title and lead."""
    return f"{article.title}\n{article.text[:LEAD_CHARS]}"


def related_pool(reader: IndexReader, article: Article, own: np.ndarray, n: int) -> RelatedPool:
    """The articles among `n` dense and `n` lexical passage candidates of `article` (its passage
    ids `own`, in position order), with their features."""
    own_vectors = reader.vectors(own)
    centroid = own_vectors.mean(axis=0)
    centroid /= max(float(np.linalg.norm(centroid)), 1e-12)
    found = reader.candidates(centroid, lexical_query(article), len(own) + n, Filters())
    mine = int(reader.columns(own[:1]).articles[0])
    dense = _article_ranks(reader, found.dense_ids, mine)
    lexical = _article_ranks(reader, found.lexical_ids, mine, found.lexical_scores)
    # The backend searches both ways at once; only the lexical list of this second call is new.
    more = reader.candidates(centroid, _more_like_this(reader, article), len(own) + n, Filters())
    mlt = _article_ranks(reader, more.lexical_ids, mine, more.lexical_scores)

    first = dense.first | {a: p for a, p in lexical.first.items() if a not in dense.first}
    found_rows = reader.passages(list(first.values()))
    rows = [found_rows[p] for p in first.values() if p in found_rows]
    of = reader.articles_passages([r.article_id for r in rows])
    passages = [of[r.article_id] for r in rows]
    kept = [i for i, p in enumerate(passages) if len(p)]  # one replaced since the search has none
    numbers = [a for a, p in first.items() if p in found_rows]
    numbers, rows, passages = [numbers[i] for i in kept], [rows[i] for i in kept], [passages[i] for i in kept]
    if not rows:
        return RelatedPool([], [], np.zeros((0, len(RELATED_FEATURES))))
    sizes = np.array([len(p) for p in passages])
    starts = np.r_[0, np.cumsum(sizes)[:-1]]
    every = np.concatenate(passages)
    texts_of = reader.columns(every).texts
    texts = [frozenset(texts_of[s : s + z].tolist()) for s, z in zip(starts, sizes, strict=True)]

    x = np.zeros((len(rows), len(RELATED_FEATURES)))
    _vector_features(x, own_vectors, centroid, reader.vectors(every), starts, sizes)
    _list_features(x, numbers, dense, lexical, mlt)
    _time_features(x, article, rows)
    own_texts = set(reader.columns(own).texts.tolist())
    own_title, own_lead = set(terms(article.title)), set(terms(lexical_query(article)))
    for i, row in enumerate(rows):
        title = set(terms(row.title))
        x[i, _COL["title_overlap"]] = _jaccard(own_title, title)
        x[i, _COL["title_in_lead"]] = len(title & own_lead) / len(title) if title else 0.0
        x[i, _COL["same_source"]] = float(bool(row.source) and row.source == article.source)
        x[i, _COL["copy"]] = float(bool(own_texts & texts[i]))
    x[:, _COL["length"]] = np.log(sizes)
    x[:, _COL["title_coverage"]] = np.maximum.reduceat(reader.overlap(every, article.title)[:, 0], starts)
    return RelatedPool(rows, texts, x)


def _vector_features(
    x: np.ndarray,
    own: np.ndarray,
    centroid: np.ndarray,
    vectors: np.ndarray,
    starts: np.ndarray,
    sizes: np.ndarray,
) -> None:
    """Fill the vector columns of `x` from the article's `(m, dim)` passage vectors `own`, its unit
    `centroid` and the candidates' `(sum(sizes), dim)` passage vectors, candidate i's from
    `starts[i]`."""
    sims = own @ vectors.T  # (m, every candidate passage)
    sums = np.add.reduceat(vectors, starts, axis=0)
    centroids = sums / np.maximum(np.linalg.norm(sums, axis=1, keepdims=True), 1e-12)
    best_of_own = np.maximum.reduceat(sims, starts, axis=1)  # (m, candidates)
    x[:, _COL["centroid"]] = centroids @ centroid
    x[:, _COL["centroid_best"]] = np.maximum.reduceat(vectors @ centroid, starts)
    x[:, _COL["maxsim"]] = best_of_own.max(axis=0)
    x[:, _COL["chamfer"]] = best_of_own.mean(axis=0)
    x[:, _COL["chamfer_back"]] = np.add.reduceat(sims.max(axis=0), starts) / sizes
    for name in ("centroid", "maxsim", "chamfer_back"):
        x[:, _COL[f"{name}_rank"]] = np.log1p(np.argsort(np.argsort(-x[:, _COL[name]], kind="stable")))
    closest = np.argsort(-x[:, _COL["centroid"]], kind="stable")
    between = centroids @ centroids.T
    others = 1.0 - np.eye(len(sizes))  # a candidate is not its own neighbour
    for m in (3, 10):
        count = others[:, closest[:m]].sum(axis=1)
        total = (between * others)[:, closest[:m]].sum(axis=1)
        x[:, _COL[f"neighbours{m}"]] = np.where(count > 0, total / np.maximum(count, 1.0), 0.0)


def _list_features(x: np.ndarray, numbers: list[int], dense: _Ranks, lexical: _Ranks, mlt: _Ranks) -> None:
    """Fill the columns of `x` that come from the candidate lists (rows: article `numbers`)."""
    for i, a in enumerate(numbers):
        for name, ranks in (("dense", dense), ("lexical", lexical), ("mlt", mlt)):
            rank = ranks.rank.get(a)
            x[i, _COL[f"{name}_rank"]] = np.log1p(ranks.size if rank is None else rank)
            x[i, _COL[f"{name}_absent"]] = float(rank is None)
            if rank is not None and name != "mlt":
                x[i, _COL["rrf"]] += 60.0 / (61.0 + rank)
        x[i, _COL["lexical"]] = lexical.score.get(a, 0.0)
        x[i, _COL["mlt"]] = mlt.score.get(a, 0.0)
        x[i, _COL["hits"]] = np.log1p(dense.hits.get(a, 0) + lexical.hits.get(a, 0))


def _time_features(x: np.ndarray, article: Article, rows: list[PassageRow]) -> None:
    """Fill the columns of `x` about days apart (its `centroid` column must be filled)."""
    day = article.date.toordinal() if article.date else UNDATED
    days = np.array([r.date.toordinal() if r.date else UNDATED for r in rows])
    dated = days != UNDATED
    x[:, _COL["undated"]] = ~dated
    x[:, _COL["undated_pair"]] = ~dated | (day == UNDATED)
    if day != UNDATED:
        gap = np.abs(days - day).astype(np.float64)
        for name, half_life in _HALF_LIVES:
            x[:, _COL[name]] = np.where(dated, np.power(0.5, gap / half_life), 0.0)
    closest = np.argsort(-x[:, _COL["centroid"]], kind="stable")[:_CONSENSUS]
    top = closest[dated[closest]]
    if len(top):
        gap = np.abs(days - np.median(days[top])).astype(np.float64)
        for name, half_life in (("consensus_week", 7.0), ("consensus_month", 30.0)):
            x[:, _COL[name]] = np.where(dated, np.power(0.5, gap / half_life), 0.0)


@dataclass(frozen=True, slots=True)
class _Ranks:
    """Per article number: its rank among the list's articles, its first passage, its passages in
    the list and (lexical) its best score over the list's top score; `size`: articles in the list."""

    rank: dict[int, int]
    first: dict[int, int]
    hits: dict[int, int]
    score: dict[int, float]
    size: int


def _article_ranks(
    reader: IndexReader, ids: np.ndarray, mine: int, scores: np.ndarray | None = None
) -> _Ranks:
    """The articles of a ranked passage list, the article numbered `mine` left out."""
    rank: dict[int, int] = {}
    first: dict[int, int] = {}
    hits: dict[int, int] = {}
    score: dict[int, float] = {}
    if len(ids):
        top = float(scores[0]) if scores is not None and len(scores) and scores[0] > 0 else 1.0
        numbers = reader.columns(ids).articles.tolist()
        for n, (pid, a) in enumerate(zip(ids.tolist(), numbers, strict=True)):
            if a == mine or a < 0:
                continue
            hits[a] = hits.get(a, 0) + 1
            if a not in rank:
                rank[a] = len(rank)
                first[a] = pid
                if scores is not None:
                    score[a] = float(scores[n]) / top
    return _Ranks(rank, first, hits, score, len(rank))


def _more_like_this(reader: IndexReader, article: Article) -> str:
    """The article's `MLT_WORDS` words of highest (1 + log tf) · idf, for a BM25 query."""
    counts: dict[str, int] = {}
    for word in _WORDS.findall(f"{article.title}\n{article.text}".lower()):
        if word not in STOPWORDS and not word.isdigit():
            counts[word] = counts.get(word, 0) + 1
    idf = reader.idf(list(counts)) or {}
    weight = {w: (1.0 + np.log(c)) * idf.get(w, 0.0) for w, c in counts.items()}
    return " ".join(sorted(weight, key=lambda w: (-weight[w], w))[:MLT_WORDS])


def _jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 0.0
