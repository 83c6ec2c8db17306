"""Shaping: ranked candidates into the hits a user sees (per-article limit, syndicated copies
collapsed, adjacent passages merged, the answering sentence highlighted)."""

from __future__ import annotations

import itertools
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


Copies = dict[int, tuple[RelatedCopy, ...]]  # passage id -> the other articles a hit lists with it


def cards(
    ranked: np.ndarray,
    articles: np.ndarray,
    texts: np.ndarray,
    chosen: list[int],
    copies: Copies,
    k: int | None = None,
) -> tuple[list[int], dict[int, list[int]]]:
    """The chosen passages as the cards a user sees: `(positions, joined)`, `joined` mapping a
    card's passage id to the other passages of its article it shows with it.

    Passages of one article with neighbouring ids (ids are allocated in position order; `hits`
    checks positions) overlap or touch, so they make one card, never several showing the same text:
    - of the first `k` chosen (all when None), one next to a card of its article (an article's
      further passages, chosen when too few articles fill k, sit next to the one shown first)
      joins it, and joins two cards it sits between;
    - one chosen after them (to fill the places that joined passages left) is a card only away
      from every card of its article: it is there for new text, not to lengthen a card;
    - then each card whose passages no other article carries (none has `copies`) takes in one
      neighbour that shaping passed over only because its article was already shown (it ranked
      above the last chosen passage), the better ranked of the two, unless it touches another
      card too or its text is shown already (a syndicated copy of it was chosen).
    A card keeps the place and score of its first chosen passage; `hits` lists the copies of all
    its passages. `texts` are the candidates' text numbers (equal for equal text), as `ranked`.
    """
    if not chosen:
        return [], {}
    depth = max(chosen) + 1
    rank = {int(pid): r for r, pid in enumerate(ranked[:depth].tolist())}
    article_of = dict(zip(rank, articles[:depth].tolist(), strict=True))
    text_of = dict(zip(rank, texts[:depth].tolist(), strict=True))
    members: dict[int, list[int]] = {}  # card (its first chosen passage id) -> the ids it shows, in order
    owner: dict[int, int] = {}  # passage id -> its card
    place: dict[int, int] = {}  # card -> when it was made

    def next_to(pid: int) -> list[int]:
        """The cards of `pid`'s article it touches, oldest first."""
        near = {owner[n] for n in (pid - 1, pid + 1) if n in owner}
        return sorted((c for c in near if article_of[c] == article_of[pid]), key=place.__getitem__)

    def join(pid: int, near: list[int]) -> None:
        """`pid` into the first card of `near`, with the others."""
        head, *rest = near
        together = [pid, *(m for c in near for m in members[c])]
        for card in rest:
            del members[card]
        members[head] = sorted(together)
        owner.update(dict.fromkeys(together, head))

    asked = len(chosen) if k is None else k
    for n, position in enumerate(chosen):
        pid = int(ranked[position])
        if near := next_to(pid):
            if n < asked:
                join(pid, near)
            continue
        members[pid], owner[pid], place[pid] = [pid], pid, n
    shown_texts = {text_of[m] for shown in members.values() for m in shown}
    for card in list(members):
        if card not in members or any(copies.get(m) for m in members[card]):
            continue
        low, high = members[card][0], members[card][-1]
        near = [
            n
            for n in (low - 1, high + 1)
            if n in rank
            and n not in owner
            and article_of[n] == article_of[card]
            and text_of[n] not in shown_texts
            and next_to(n) == [card]
        ]
        if near:
            taken = min(near, key=rank.__getitem__)
            join(taken, [card])
            shown_texts.add(text_of[taken])
    kept = [c for c in chosen if int(ranked[c]) in members]
    joined = {card: [m for m in shown if m != card] for card, shown in members.items()}
    return kept, {card: others for card, others in joined.items() if others}


def _merged(reader: IndexReader, row: PassageRow, others: Sequence[PassageRow]) -> PassageRow:
    """`row` extended over neighbouring passages of its article (else unchanged): the article's
    text from the first passage's start to the last one's end, with the sentence spans of each
    (a passage's up to where the next begins). `others` and `row` must be consecutive positions
    of one article, in any order."""
    parts = sorted([row, *others], key=lambda r: r.position)
    consecutive = all(b.position - a.position == 1 for a, b in itertools.pairwise(parts))
    if not others or not consecutive or any(r.article_id != row.article_id for r in parts):
        return row
    text, start, end = parts[0].text, parts[0].start, parts[0].end
    spans = parts[0].sentences
    for second in parts[1:]:
        shift = second.start - start
        if shift < 0:
            return row
        if second.start <= end:  # overlapping or touching: both texts are slices of the article
            text = text[:shift] + second.text
        else:  # whitespace between them, which neither passage holds
            text = reader.article_slice(row.article_id, start, second.end)
        if spans is not None and second.sentences is not None:
            head = tuple(span for span in spans if span[1] <= shift)
            spans = head + tuple((a + shift, b + shift) for a, b in second.sentences)
        else:
            spans = None
        end = second.end
    return replace(row, text=text, start=start, end=end, sentences=spans)


def read_rows(
    reader: IndexReader, pids: Sequence[int], rows: dict[int, PassageRow] | None
) -> dict[int, PassageRow]:
    """The rows of `pids`: those `rows` holds, the rest read in one call (and kept in `rows`)."""
    held = {} if rows is None else rows
    if missing := [pid for pid in pids if pid not in held]:
        held.update(reader.passages(missing))
    return held


def first_rows(reader: IndexReader, article_ids: Sequence[str]) -> dict[str, PassageRow]:
    """Each given article's first passage row (its date, source, url), in two reads; an article
    with no passages is left out."""
    first = {a: int(p[0]) for a, p in reader.articles_passages(article_ids).items() if len(p)}
    rows = reader.passages(list(first.values()))
    return {a: rows[pid] for a, pid in first.items() if pid in rows}


def listed_copies(
    reader: IndexReader,
    ids: np.ndarray,
    shared: np.ndarray,
    config: RetrievalConfig,
    filters: Filters | None = None,
    rows: dict[int, PassageRow] | None = None,
) -> Copies:
    """The syndicated copies a hit lists, for each of `ids` that has some: the other articles
    carrying its text that `filters` (the search's) admit, with their dates, sources and urls (a
    copy published after `as_of` is not named either); none without duplicate collapse.
    `shared` marks the passages whose text more than one passage of the archive carries: only
    those are looked up (their rows, from `rows` when it holds them, and the copies' first rows)."""
    if not config.collapse_duplicates or not shared.any():
        return {}
    pids = ids[shared].tolist()
    rows = read_rows(reader, pids, rows)
    hashes = [rows[pid].text_hash for pid in pids if pid in rows]
    duplicates = reader.duplicates(hashes) if hashes else {}
    copied = sorted({a for ids in duplicates.values() for a in ids})
    copy_rows = first_rows(reader, copied) if copied else {}
    admitted = filters or Filters()
    copy_rows = {a: row for a, row in copy_rows.items() if admitted.admits(row.date, row.source)}
    out: Copies = {}
    for pid in pids:
        if (row := rows.get(pid)) is None:
            continue
        others = sorted(
            a for a in duplicates.get(row.text_hash, ()) if a in copy_rows and a != row.article_id
        )
        if others:
            out[pid] = tuple(
                RelatedCopy(a, copy_rows[a].date, copy_rows[a].source, copy_rows[a].url) for a in others
            )
    return out


def hits(
    reader: IndexReader,
    question: str,
    ids: np.ndarray,
    scores: np.ndarray,
    copies: Copies,
    joined: dict[int, list[int]],
    config: RetrievalConfig,
    rows: dict[int, PassageRow] | None = None,
) -> list[Hit]:
    """Hits for the chosen cards (one metadata read, of the rows `rows` does not hold yet), each
    merged with the passages `cards` joined to it, listing the syndicated `copies` of any of them
    (`listed_copies`), and given its highlight."""
    rows = read_rows(reader, [*ids.tolist(), *(pid for pids in joined.values() for pid in pids)], rows)
    idf = corpus_idf(reader, question) if config.highlight and config.highlight_corpus_idf else None
    scorer = None
    if config.highlight and config.highlighter == "learned":
        scorer = load_highlighter(config.highlighter_path)
    out = []
    for pid, score in zip(ids.tolist(), scores.tolist(), strict=True):
        row = rows.get(pid)
        if row is None:
            continue
        if pid in joined:
            row = _merged(reader, row, [rows[n] for n in joined[pid] if n in rows])
        mark = ("", 0, 0)
        if config.highlight:
            h = best_sentence(question, row.text, idf=idf, spans=row.sentences, scorer=scorer)
            mark = (h.text, h.start, h.end)
        found = {c.article_id: c for m in (pid, *joined.get(pid, ())) for c in copies.get(m, ())}
        listed = tuple(found[a] for a in sorted(found))
        out.append(
            Hit.from_row(
                row, score, duplicates=tuple(c.article_id for c in listed), copies=listed, highlight=mark
            )
        )
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
