"""The retrieval pipeline: candidates from the backend, fusion, ranking, reranking, shaping."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import numpy as np

from embeddings.backends import Candidates, Columns, Filters, IndexReader, PassageRow
from qa.hits import Hit
from qa.retrieval import match, ranking, shaping
from qa.retrieval.config import RetrievalConfig
from qa.retrieval.features import QueryFacts, candidate_ids, features
from qa.retrieval.fusion import fuse
from qa.retrieval.learned import fits_encoder, load_ranker
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
    window_filter: bool = False,
    as_of: dt.date,
    config: RetrievalConfig,
    reranker: Reranker = keep_order,
    dated: bool = False,
    present: bool = False,
    lexical_text: str | None = None,
    match_words: str | None = None,
    match_vector: np.ndarray | None = None,
) -> list[Hit]:
    """The k best passages for a question.

    Candidates are ranked and shaped with the backend's per-passage columns (day, article, text)
    alone; rows and text are read only for the k returned.

    Args:
        vector: `(dim,)` unit vector of the question.
        filters: hard restrictions, pushed into the backend's candidate search.
        window: a date window read from the question; articles inside it are preferred.
        window_filter: the window restricts the search instead (`config.time_filter` does too):
            it joins `filters` inside the backend, as explicit dates do, so that k hits come
            back whenever the window holds k passages.
        as_of: the archive's "now", from which recency is measured.
        dated: the caller chose `as_of` (the learned ranking weighs recency by it).
        present: the question asks about now (see `features.asks_present`).
        lexical_text: what BM25 matches (default: `question`).
        match_words, match_vector: the question without its time words, whether or not they
            were read as dates, and its vector: what `match` compares a passage with (default:
            `question` and `vector`).
    """
    if window is not None and (window_filter or config.time_filter):
        filters = within(filters, window)
    n = max(config.candidates, 4 * k)
    lexical = (lexical_text or question) if config.lexical else None
    candidates = reader.candidates(vector, lexical, n, filters)
    if config.ranking == "learned":
        facts = QueryFacts(window, as_of, dated, present)
        ids, columns, x = candidate_features(reader, candidates, facts, lexical)
        scores = load_ranker(config.ranker_path).score(x)
    else:
        ids, scores = fuse(candidates, config)
        columns = reader.columns(ids)
        scores *= ranking.date_factors(columns.days, window, as_of, config)
    if not len(ids):
        return []
    if config.article_weight and config.ranking != "learned":
        scores = ranking.with_article_evidence(columns.articles, scores, config.article_weight)
    if reranker is not keep_order:
        order = np.lexsort((ids, -scores))  # the reranker sees the ranking, best first
        ids, scores = ids[order], scores[order]
        columns = type(columns)(*(c[order] for c in columns))
        scores = reranker(RerankInput(question, vector, ids, scores, columns, reader))
    order = np.lexsort((ids, -scores))
    ranked, articles, texts = ids[order], columns.articles[order], columns.texts[order]
    rows: dict[int, PassageRow] = {}  # read once, for the copies and the hits
    chosen, copies, joined = _shown(reader, ranked, articles, texts, k, config, filters, rows)
    found = shaping.hits(
        reader, question, ranked[chosen], scores[order][chosen], copies, joined, config, rows
    )
    if not config.match or not found or reader.idf([]) is None:  # no lexical index: no overlap
        return found
    model = match.load_match(config.match_path)
    if not fits_encoder(model.about, reader.info.encoder):  # another model's cosines: left unmeasured
        return found
    shown = np.array([h.passage_id for h in found], dtype=np.int64)
    words = match_words if match_words is not None else question
    near = match_vector if match_vector is not None else vector
    chances = model.probability(match.inputs(reader, near, words, shown)).tolist()
    return [replace(h, match=p, weak=p < model.weak_below) for h, p in zip(found, chances, strict=True)]


def _shown(
    reader: IndexReader,
    ranked: np.ndarray,
    articles: np.ndarray,
    texts: np.ndarray,
    k: int,
    config: RetrievalConfig,
    filters: Filters,
    rows: dict[int, PassageRow] | None = None,
) -> tuple[list[int], shaping.Copies, dict[int, list[int]]]:
    """`(positions, copies, joined)` of the k cards to show, best first (`shaping.choose`, then
    `shaping.cards`): when neighbouring passages of an article make one card, passages further
    down fill the places left, until k cards or the candidates run out. `choose` gives the same
    first k whatever it is asked for beyond them, so the rest is chosen and looked up once. Where
    copies are looked up, the rows of every passage of that call are read into `rows` at once, for
    `shaping.hits`, which then reads none of them again."""

    looked: set[int] = set()  # passage ids whose copies are looked up

    def listed(positions: list[int]) -> shaping.Copies:
        """The copies of the passages at `positions` not looked up yet."""
        fresh = [p for p in positions if int(ranked[p]) not in looked]
        looked.update(int(ranked[p]) for p in fresh)
        if not fresh:
            return {}
        shared = reader.text_copies(texts[fresh]) > 1
        if rows is not None and config.collapse_duplicates and shared.any():
            shaping.read_rows(reader, ranked[fresh].tolist(), rows)  # all of them: the hits need most
        return shaping.listed_copies(reader, ranked[fresh], shared, config, filters, rows)

    chosen = shaping.choose(articles, texts, k, config)
    if not config.merge_adjacent:
        return chosen, listed(chosen), {}
    # the neighbours a card may take in are looked up with the chosen: a hit lists their copies too
    copies = listed(chosen + _neighbours(ranked, chosen))
    kept, joined = shaping.cards(ranked, articles, texts, chosen, copies, k)
    if len(kept) < k and len(chosen) == k:
        every = shaping.choose(articles, texts, len(ranked), config)
        copies |= listed(every[k:])
        wanted = k
        while len(kept) < k and wanted < len(every):
            wanted = min(len(every), wanted + k - len(kept))
            kept, joined = shaping.cards(ranked, articles, texts, every[:wanted], copies, k)
    # a neighbour taken in by a card of those rounds may be one collapse passed over: look it up
    if unseen := {m for members in joined.values() for m in members} - looked:
        copies |= listed([p for p, pid in enumerate(ranked.tolist()) if pid in unseen])
    return kept, copies, joined


def _neighbours(ranked: np.ndarray, chosen: list[int]) -> list[int]:
    """Positions above the last chosen passage of the ids next to a chosen one, not chosen themselves."""
    depth = max(chosen, default=-1) + 1
    taken = set(chosen)
    ids = {int(ranked[c]) for c in chosen}
    return [p for p in range(depth) if p not in taken and {int(ranked[p]) - 1, int(ranked[p]) + 1} & ids]


def candidate_features(
    reader: IndexReader, candidates: Candidates, facts: QueryFacts, lexical: str | None
) -> tuple[np.ndarray, Columns, np.ndarray]:
    """`(ids, columns, x)`: the candidates (dense first), their columns and `(n, F)` features;
    `lexical`: what BM25 matched (None: nothing)."""
    ids = candidate_ids(candidates)
    columns = reader.columns(ids)
    copies = reader.text_copies(columns.texts) if len(ids) else np.zeros(0, np.int64)
    overlap = reader.overlap(ids, lexical) if lexical is not None and len(ids) else None
    return ids, columns, features(candidates, ids, columns, copies, facts, overlap)


def within(filters: Filters, window: Window) -> Filters:
    """`filters` narrowed to the dates of `window` as well (an empty intersection finds nothing)."""
    since, until = window
    if filters.since is not None:
        since = filters.since if since is None else max(since, filters.since)
    if filters.until is not None:
        until = filters.until if until is None else min(until, filters.until)
    return replace(filters, since=since, until=until)
