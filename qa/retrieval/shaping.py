"""Shaping: ranked candidates into the hits a user sees (per-article limit, syndicated copies
collapsed, adjacent passages merged, the answering sentence highlighted)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

import numpy as np

from embeddings.backends import Filters, IndexReader, PassageRow
from embeddings.text import question_terms
from qa.hits import Hit, RelatedCopy
from qa.retrieval.config import RetrievalConfig
from qa.retrieval.highlight import best_sentence
from qa.retrieval.highlighter import load_highlighter


def choose(articles: np.ndarray, texts: np.ndarray, k: int, config: RetrievalConfig) -> list[int]:
    """Positions, among ranked candidates (best first), of the k passages to show.

    Syndicated copies (equal text) collapse into the best of them, and each article shows at
    most `max_per_article` passages while other articles can fill the k places; when too few can,
    an article's further passages follow, best first. Decided on the candidates' article and
    text numbers (the backend's columns) alone: no row is read.
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


def adjacent(ranked: np.ndarray, articles: np.ndarray, chosen: list[int]) -> dict[int, int]:
    """For chosen passages, a neighbour to merge: `{passage id: neighbouring passage id}`.

    A passage of the same article next to a chosen one (ids are allocated in position order;
    `hits` checks positions) that itself ranked above the last chosen hit, i.e. one that shaping
    passed over only because its article was already shown. When both neighbours qualify, the
    better ranked one. A neighbour goes to one hit only (the better ranked one, when two shown
    passages sit either side of it), so no text is shown twice.
    """
    if not chosen:
        return {}
    depth = max(chosen) + 1
    rank = {int(pid): r for r, pid in enumerate(ranked[:depth].tolist())}
    article_of = dict(zip(rank, articles[:depth].tolist(), strict=True))
    shown = [int(ranked[c]) for c in sorted(chosen)]
    taken = set(shown)
    out: dict[int, int] = {}
    for pid in shown:
        near = [
            n for n in (pid - 1, pid + 1) if n in rank and n not in taken and article_of[n] == article_of[pid]
        ]
        if near:
            out[pid] = min(near, key=rank.__getitem__)
            taken.add(out[pid])
    return out


def _merged(reader: IndexReader, row: PassageRow, neighbour: PassageRow) -> PassageRow:
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
        text = reader.article_slice(row.article_id, first.start, second.end)
    spans = None
    if first.sentences is not None and second.sentences is not None:
        head = tuple(span for span in first.sentences if span[1] <= shift)
        spans = head + tuple((a + shift, b + shift) for a, b in second.sentences)
    return replace(row, text=text, start=first.start, end=second.end, sentences=spans)


def first_rows(reader: IndexReader, article_ids: Sequence[str]) -> dict[str, PassageRow]:
    """Each given article's first passage row (its date, source, url), in two reads; an article
    with no passages is left out."""
    first = {a: int(p[0]) for a, p in reader.articles_passages(article_ids).items() if len(p)}
    rows = reader.passages(list(first.values()))
    return {a: rows[pid] for a, pid in first.items() if pid in rows}


def hits(
    reader: IndexReader,
    question: str,
    ids: np.ndarray,
    scores: np.ndarray,
    shared: np.ndarray,
    neighbours: dict[int, int],
    config: RetrievalConfig,
    filters: Filters | None = None,
) -> list[Hit]:
    """Hits for the chosen passages (one metadata read), each merged with its neighbour from
    `adjacent` (unless other articles carry the same passage: a syndicated hit stays the shared
    text) and given its highlight; with duplicate collapse, a hit lists those other articles
    that `filters` (the search's) admit, with their dates, sources and urls: a copy published
    after `as_of` is not named either.
    `shared` marks the passages whose text more than one passage of the archive carries."""
    rows = reader.passages([*ids.tolist(), *neighbours.values()])
    duplicates: dict[str, list[str]] = {}
    if config.collapse_duplicates:  # ask SQLite only about texts that more than one passage carries
        hashes = [rows[pid].text_hash for pid in ids[shared].tolist() if pid in rows]
        duplicates = reader.duplicates(hashes) if hashes else {}
    copied = sorted({a for ids in duplicates.values() for a in ids})
    copy_rows = first_rows(reader, copied) if copied else {}
    admitted = filters or Filters()
    copy_rows = {a: row for a, row in copy_rows.items() if admitted.admits(row.date, row.source)}
    idf = corpus_idf(reader, question) if config.highlight and config.highlight_corpus_idf else None
    scorer = None
    if config.highlight and config.highlighter == "learned":
        scorer = load_highlighter(config.highlighter_path)
    out = []
    for pid, score in zip(ids.tolist(), scores.tolist(), strict=True):
        row = rows.get(pid)
        if row is None:
            continue
        others = tuple(
            sorted(a for a in duplicates.get(row.text_hash, ()) if a in copy_rows and a != row.article_id)
        )
        if pid in neighbours and neighbours[pid] in rows and not others:  # a shared passage stays as shared
            row = _merged(reader, row, rows[neighbours[pid]])
        mark = ("", 0, 0)
        if config.highlight:
            h = best_sentence(question, row.text, idf=idf, spans=row.sentences, scorer=scorer)
            mark = (h.text, h.start, h.end)
        copies = tuple(
            RelatedCopy(a, copy_rows[a].date, copy_rows[a].source, copy_rows[a].url) for a in others
        )
        out.append(Hit.from_row(row, score, duplicates=others, copies=copies, highlight=mark))
    return out


def corpus_idf(reader: IndexReader, question: str) -> Callable[[str], float] | None:
    """Weights of the question's terms for the highlight: their idf over the whole archive.

    A name that occurs in a handful of passages says more about where the answer is than a word
    every article uses, which the passage's own few sentences cannot tell apart.
    """
    terms = question_terms(question)
    idf = reader.idf([w for words in terms.values() for w in words])
    if idf is None:
        return None
    weights = {term: max(idf[w] for w in words) for term, words in terms.items()}
    return lambda term: weights.get(term, 0.0)
