"""Tests for merging a hit with an adjacent passage of its article (qa.retrieval.shaping._merged)."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

from embeddings.backends import PassageRow
from qa.retrieval.shaping import _merged

ARTICLE = "First sentence here. Second one follows. Third closes it.\n\nA new paragraph starts. It ends."


def _row(position: int, start: int, end: int, *, article: str = "a", spans: bool = True) -> PassageRow:
    text = ARTICLE[start:end]
    sentences = None
    if spans:  # sentence spans as the indexer stores them: ". "-separated pieces of this text
        sentences, at = [], 0
        for piece in text.split(". "):
            sentences.append((at, at + len(piece)))
            at += len(piece) + 2
    return PassageRow(
        10 + position,
        article,
        position,
        start,
        end,
        text,
        "h",
        "T",
        dt.date(2024, 1, 1),
        "S",
        None,
        None if sentences is None else tuple(sentences),
    )


def _reader() -> Any:
    def article_slice(article_id: str, start: int, end: int) -> str:
        return ARTICLE[start:end]

    return SimpleNamespace(article_slice=article_slice)


def test_an_overlapping_next_passage_extends_the_hit_to_the_article_span() -> None:
    hit, nxt = _row(0, 0, 40), _row(1, 21, 57)  # they share "Second one follows."
    merged = _merged(_reader(), hit, nxt)
    assert (merged.start, merged.end, merged.text) == (0, 57, ARTICLE[0:57])
    assert (merged.id, merged.position) == (hit.id, hit.position)  # still the ranked passage
    assert merged.sentences is not None
    assert all(merged.text[a:b] in ARTICLE for a, b in merged.sentences)
    assert merged.text[slice(*merged.sentences[-1])] == "Third closes it."


def test_a_previous_passage_separated_by_whitespace_is_merged_through_the_article() -> None:
    prev, hit = _row(0, 0, 57), _row(1, 59, len(ARTICLE))  # "\n\n" between them
    merged = _merged(_reader(), hit, prev)
    assert (merged.start, merged.end, merged.text) == (0, len(ARTICLE), ARTICLE)
    assert merged.text[slice(*merged.sentences[-1])] == "It ends."  # type: ignore[misc]


def test_passages_that_are_not_neighbours_in_one_article_are_left_alone() -> None:
    hit = _row(0, 0, 40)
    assert _merged(_reader(), hit, _row(2, 21, 57)) is hit  # two positions apart
    assert _merged(_reader(), hit, _row(1, 21, 57, article="b")) is hit  # another article


def test_without_stored_spans_the_merged_row_has_none_and_the_highlight_splits_it() -> None:
    merged = _merged(_reader(), _row(0, 0, 40, spans=False), _row(1, 21, 57))
    assert merged.text == ARTICLE[0:57] and merged.sentences is None
