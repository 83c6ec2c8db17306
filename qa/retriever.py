"""Retrieval: dense and lexical candidates, fused, filtered by date and source, shaped into hits."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from embeddings.index import Snapshot
from embeddings.metadata import UNDATED, PassageRow
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
    merge_adjacent: bool = True
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

    Candidates are ranked and shaped with the snapshot's per-passage columns (day, article,
    text) alone; metadata rows and text are read only for the k returned.

    Args:
        query_vector: `(dim,)` unit vector of the question.
        allowed: passage ids a hit must come from (None: any).
        window: a date window read from the question; articles inside it are preferred
            (or required, with `config.time_filter`).
    """
    n = max(config.candidates, 4 * k)
    fused = _fuse(snapshot, question, query_vector, n, allowed, config)
    if not fused:
        return []
    ids = np.fromiter(fused, dtype=np.int64, count=len(fused))
    scores = np.fromiter(fused.values(), dtype=np.float64, count=len(fused))
    days = snapshot.meta.days_of(ids)
    scores *= _date_factors(days, window, as_of, config)
    if window is not None and config.time_filter:
        inside = _inside(days, window)
        ids, scores = ids[inside], scores[inside]
    if config.article_weight:
        scores = _with_article_evidence(snapshot, ids, scores, config.article_weight)
    order = np.lexsort((ids, -scores))
    ranked = ids[order]
    articles, texts = snapshot.meta.groups_of(ranked)
    chosen = _shape(articles, texts, k, config)
    neighbours = _adjacent(ranked, articles, chosen) if config.merge_adjacent else {}
    shared = snapshot.meta.text_copies(texts[chosen]) > 1
    return _hits(snapshot, question, ranked[chosen], scores[order][chosen], shared, neighbours, config)


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


def _with_article_evidence(
    snapshot: Snapshot, ids: np.ndarray, scores: np.ndarray, weight: float
) -> np.ndarray:
    """Credit every passage of an article with its article's next-best candidate passages.

    An article that matches the question in several places is more likely about it than one
    with a single lucky passage.
    """
    articles = snapshot.meta.groups_of(ids)[0].tolist()
    by_article: dict[int, list[float]] = {}
    for article, score in zip(articles, scores.tolist(), strict=True):
        by_article.setdefault(article, []).append(score)
    bonus = {a: sum(sorted(v, reverse=True)[1:3]) for a, v in by_article.items()}
    return scores + weight * np.array([bonus[a] for a in articles])


def _inside(days: np.ndarray, window: tuple[dt.date | None, dt.date | None]) -> np.ndarray:
    since, until = window
    inside = days != UNDATED
    if since is not None:
        inside &= days >= since.toordinal()
    if until is not None:
        inside &= days <= until.toordinal()
    return inside


def _date_factors(
    days: np.ndarray,
    window: tuple[dt.date | None, dt.date | None] | None,
    as_of: dt.date,
    config: RetrievalConfig,
) -> np.ndarray:
    """Per candidate: ×(1 + time_boost) inside the question's window, ×(1 + w·2^(−age/half-life))."""
    factor = np.ones(len(days))
    if window is not None and config.time_boost:
        factor[_inside(days, window)] *= 1.0 + config.time_boost
    if config.recency_weight and config.recency_half_life_days > 0:
        dated = days != UNDATED
        age = np.maximum(0, as_of.toordinal() - days[dated])
        factor[dated] *= 1.0 + config.recency_weight * np.power(0.5, age / config.recency_half_life_days)
    return factor


def _shape(articles: np.ndarray, texts: np.ndarray, k: int, config: RetrievalConfig) -> list[int]:
    """Positions, among ranked candidates (best first), of the k passages to show.

    Syndicated copies (equal text) collapse into the best of them, and each article shows at
    most `max_per_article` passages while other articles can fill the k places; when too few can,
    an article's further passages follow, best first. Decided on the candidates' article and
    text numbers (`MetadataStore.groups_of`) alone: no row is read.
    """
    kept: list[int] = []
    overflow: list[int] = []
    seen_text: set[int] = set()
    per_article: dict[int, int] = {}
    for position, (article, text) in enumerate(zip(articles.tolist(), texts.tolist(), strict=True)):
        if article < 0:  # a vector without its row: never in a checked index
            continue
        if config.collapse_duplicates:
            if text in seen_text:
                continue
            seen_text.add(text)
        count = per_article.get(article, 0)
        per_article[article] = count + 1
        (kept if count < config.max_per_article else overflow).append(position)
        if len(kept) >= k:
            return kept
    return (kept + overflow)[:k]


def _adjacent(ranked: np.ndarray, articles: np.ndarray, chosen: list[int]) -> dict[int, int]:
    """For chosen passages, a neighbour to merge: `{passage id: neighbouring passage id}`.

    A passage of the same article next to a chosen one (ids are allocated in position order;
    `_hits` checks positions) that itself ranked above the last chosen hit, i.e. one that shaping
    passed over only because its article was already shown. When both neighbours qualify, the
    better ranked one.
    """
    if not chosen:
        return {}
    depth = max(chosen) + 1
    rank = {int(pid): r for r, pid in enumerate(ranked[:depth].tolist())}
    article_of = dict(zip(rank, articles[:depth].tolist(), strict=True))
    shown = {int(ranked[c]) for c in chosen}
    out: dict[int, int] = {}
    for pid in shown:
        near = [
            n for n in (pid - 1, pid + 1) if n in rank and n not in shown and article_of[n] == article_of[pid]
        ]
        if near:
            out[pid] = min(near, key=rank.__getitem__)
    return out


def _merged(snapshot: Snapshot, row: PassageRow, neighbour: PassageRow) -> PassageRow:
    """`row` extended over a neighbouring passage of its article (else unchanged): the article's
    text from the first passage's start to the second's end, with the sentence spans of both
    (the first's up to where the second begins)."""
    if neighbour.article_id != row.article_id or abs(row.position - neighbour.position) != 1:
        return row
    first, second = (row, neighbour) if row.position < neighbour.position else (neighbour, row)
    shift = second.start - first.start
    if shift < 0:
        return row
    if second.start <= first.end:  # overlapping or touching: both texts are slices of the article
        text = first.text[:shift] + second.text
    else:  # whitespace between them, which neither passage holds
        text = snapshot.meta.article_slice(row.article_id, first.start, second.end)
    spans = None
    if first.sentences is not None and second.sentences is not None:
        head = tuple(span for span in first.sentences if span[1] <= shift)
        spans = head + tuple((a + shift, b + shift) for a, b in second.sentences)
    return replace(row, text=text, start=first.start, end=second.end, sentences=spans)


def _hits(
    snapshot: Snapshot,
    question: str,
    ids: np.ndarray,
    scores: np.ndarray,
    shared: np.ndarray,
    neighbours: dict[int, int],
    config: RetrievalConfig,
) -> list[Hit]:
    """Hits for the chosen passages (one metadata read), each merged with its neighbour from
    `_adjacent` (unless other articles carry the same passage: a syndicated hit stays the shared
    text) and given its highlight; with duplicate collapse, a hit lists those other articles.
    `shared` marks the passages whose text more than one passage of the archive carries."""
    rows = snapshot.meta.passages([*ids.tolist(), *neighbours.values()])
    duplicates: dict[str, list[str]] = {}
    if config.collapse_duplicates:  # ask SQLite only about texts that more than one passage carries
        hashes = [rows[pid].text_hash for pid in ids[shared].tolist() if pid in rows]
        duplicates = snapshot.meta.duplicate_passages(hashes) if hashes else {}
    idf = _corpus_idf(snapshot, question) if config.highlight and config.highlight_corpus_idf else None
    out = []
    for pid, score in zip(ids.tolist(), scores.tolist(), strict=True):
        row = rows.get(pid)
        if row is None:
            continue
        others = tuple(sorted(a for a in duplicates.get(row.text_hash, ()) if a != row.article_id))
        if pid in neighbours and neighbours[pid] in rows and not others:  # a shared passage stays as shared
            row = _merged(snapshot, row, rows[neighbours[pid]])
        mark = ("", 0, 0)
        if config.highlight:
            h = best_sentence(question, row.text, idf=idf, spans=row.sentences)
            mark = (h.text, h.start, h.end)
        out.append(Hit.from_row(row, score, duplicates=others, highlight=mark))
    return out


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
