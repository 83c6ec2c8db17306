"""Tests for qa.retrieval.shaping: choosing the k passages, adjacent neighbours, merged hits."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from embeddings.backends import Filters, PassageRow
from qa.hits import RelatedCopy
from qa.retrieval.config import RetrievalConfig
from qa.retrieval.learned import LinearRanker
from qa.retrieval.pipeline import _shown
from qa.retrieval.sentence_features import FEATURES
from qa.retrieval.shaping import _merged, cards, choose, hits, listed_copies

ARTICLE = "First sentence here. Second one follows. Third closes it.\n\nA new paragraph starts. It ends."


def _choose(articles: list[int], texts: list[int], k: int, **knobs: Any) -> list[int]:
    return choose(np.array(articles), np.array(texts), k, RetrievalConfig(**knobs))


# --- choose ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("limit", "expected"), [(1, [0, 3, 5]), (2, [0, 1, 3])], ids=["one-each", "two-each"]
)
def test_each_article_shows_at_most_max_per_article_while_others_fill_k(
    limit: int, expected: list[int]
) -> None:
    assert _choose([1, 1, 1, 2, 2, 3], [10, 11, 12, 13, 14, 15], 3, max_per_article=limit) == expected


def test_too_few_articles_are_followed_by_their_further_passages_best_first() -> None:
    assert _choose([1, 1, 2, 1, 2], [10, 11, 12, 13, 14], 4) == [0, 2, 1, 3]


def test_syndicated_copies_collapse_into_the_best_ranked() -> None:
    assert _choose([1, 2, 3, 4], [10, 10, 11, 10], 3) == [0, 2]
    assert _choose([1, 2, 3, 4], [10, 10, 11, 10], 3, collapse_duplicates=False) == [0, 1, 2]


def test_candidates_without_an_article_are_skipped() -> None:
    assert _choose([-1, 1, -1, 2], [-1, 10, -1, 11], 2) == [1, 3]


# --- cards (neighbouring passages of one article shown once) ------------------------------------


def _cards(
    ranked: list[int],
    articles: list[int],
    chosen: list[int],
    copies: dict[int, tuple[str, ...]] | None = None,
    *,
    texts: list[int] | None = None,
    k: int | None = None,
) -> tuple[list[int], dict[int, list[int]]]:
    listed = {
        pid: tuple(RelatedCopy(a, None, None, None) for a in others) for pid, others in (copies or {}).items()
    }
    numbers = np.array(texts if texts is not None else ranked)  # each passage its own text by default
    return cards(np.array(ranked), np.array(articles), numbers, chosen, listed, k)


def test_a_neighbour_passed_over_above_the_last_chosen_hit_is_merged() -> None:
    # passage 6 (article 1) ranked second but article 1 was already shown by passage 5
    assert _cards([5, 6, 20, 30], [1, 1, 2, 3], [0, 2, 3]) == ([0, 2, 3], {5: [6]})


def test_a_neighbour_ranked_below_the_last_chosen_hit_is_not() -> None:
    assert _cards([5, 20, 30, 6], [1, 2, 3, 1], [0, 1, 2]) == ([0, 1, 2], {})


@pytest.mark.parametrize(("ranked", "expected"), [([5, 6, 4, 20], [6]), ([5, 4, 6, 20], [4])])
def test_of_two_neighbours_the_better_ranked_is_merged(ranked: list[int], expected: list[int]) -> None:
    assert _cards(ranked, [1, 1, 1, 2], [0, 3]) == ([0, 3], {5: expected})


def test_a_neighbouring_id_of_another_article_is_not_merged() -> None:
    assert _cards([5, 6, 20, 30], [1, 9, 2, 3], [0, 2, 3]) == ([0, 2, 3], {})


def test_an_articles_further_passage_next_to_its_shown_one_joins_that_card() -> None:
    # too few articles: passage 6 was chosen after 20 as article 1's second passage; it overlaps 5
    assert _cards([5, 20, 6], [1, 2, 1], [0, 1, 2]) == ([0, 1], {5: [6]})
    # a run of three, chosen out of order: one card, at the first chosen one's place
    assert _cards([6, 20, 7, 5], [1, 2, 1, 1], [0, 1, 2, 3]) == ([0, 1], {6: [5, 7]})


def test_a_further_passage_away_from_the_shown_one_is_a_card_of_its_own() -> None:
    assert _cards([5, 20, 9], [1, 2, 1], [0, 1, 2]) == ([0, 1, 2], {})


def test_a_neighbour_between_two_shown_passages_is_taken_in_by_neither() -> None:
    # passages 5 and 7 of article 1 are both shown; 6 sits between them: it would join the two
    # cards though nobody chose it, or overlap the other card
    assert _cards([5, 6, 7, 20], [1, 1, 1, 2], [0, 2, 3]) == ([0, 2, 3], {})
    # chosen itself, it joins them
    assert _cards([5, 6, 7, 20], [1, 1, 1, 2], [0, 2, 3, 1]) == ([0, 3], {5: [6, 7]})


def test_passages_chosen_to_fill_places_only_add_cards_away_from_the_others() -> None:
    def _filled(ranked: list[int], chosen: list[int]) -> tuple[list[int], dict[int, list[int]]]:
        return _cards(ranked, [1] * len(ranked), chosen, k=2)

    # k = 2: 5 and 6 make one card, so 7 and 9 were chosen to fill the place it left: 7 only
    # lengthens that card (taken in as the neighbour it passed over), 9 is the second card
    assert _filled([5, 6, 7, 9, 4], [0, 1, 2, 3]) == ([0, 3], {5: [6, 7]})
    # 8 would lengthen the card of 9 and join it to that of 5 to 7: nobody chose it for that
    assert _filled([5, 6, 7, 9, 8], [0, 1, 2, 3, 4]) == ([0, 3], {5: [6, 7]})
    # 9's card may not take in 8 either: it touches 5's card
    assert _filled([5, 6, 9, 8, 7], [0, 1, 2, 4]) == ([0, 2], {5: [6, 7]})


def test_chosen_passages_next_to_each_other_join_whatever_other_articles_carry() -> None:
    # 6 carries text another article carries too: next to 5, it still joins its card (no text twice)
    assert _cards([5, 20, 6], [1, 2, 1], [0, 1, 2], {6: ("seven",)}) == ([0, 1], {5: [6]})
    # a wire story whose every passage other articles carry: one card
    wire = {5: ("b", "c"), 6: ("b", "c"), 7: ("b",)}
    assert _cards([5, 20, 6, 7], [1, 2, 1, 1], [0, 1, 2, 3], wire) == ([0, 1], {5: [6, 7]})


def test_a_card_with_a_syndicated_passage_takes_in_no_neighbour() -> None:
    # 5 ranked second, passed over: the card of 6 shows the text its copies carry, no more
    assert _cards([6, 5, 20], [1, 1, 2], [0, 2], {6: ("seven",)}) == ([0, 2], {})


def test_a_syndicated_passage_chosen_beyond_k_next_to_a_card_is_no_card() -> None:
    # k = 2: 5 and 6 join, 7 (carried by another article too) would only show the end of their text again
    # (it is taken in as the neighbour the card passed over: its text shows once, its copies listed)
    assert _cards([5, 6, 7, 12], [1, 1, 1, 1], [0, 1, 2, 3], {7: ("b",)}, k=2) == ([0, 3], {5: [6, 7]})


def test_a_neighbour_touching_another_card_is_not_taken_in_whatever_that_card_is() -> None:
    assert _cards([5, 6, 20, 7], [1, 1, 2, 1], [0, 2, 3], {7: ("b",)}) == ([0, 2, 3], {})


def test_a_neighbour_whose_text_another_articles_hit_shows_is_not_taken_in() -> None:
    # 6 was collapsed into 20 (the same text, article 2): taken into 5's card it would show twice
    found = _cards([5, 20, 6, 30], [1, 2, 1, 3], [0, 1, 3], texts=[50, 60, 60, 70])
    assert found == ([0, 1, 3], {})
    assert _cards([5, 20, 6, 30], [1, 2, 1, 3], [0, 1, 3], texts=[50, 60, 61, 70]) == ([0, 1, 3], {5: [6]})
    # two cards whose passed-over neighbours carry one text: the first takes it in, not both
    assert _cards([5, 6, 21, 20], [1, 1, 2, 2], [0, 3], texts=[50, 99, 99, 60]) == ([0, 3], {5: [6]})


def test_nothing_chosen_merges_nothing() -> None:
    assert _cards([5, 6], [1, 1], []) == ([], {})


# --- _merged (a hit extended over an adjacent passage of its article) ----------------------------


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


def _reader(rows: dict[int, PassageRow] | None = None, copies: dict[str, list[str]] | None = None) -> Any:
    def article_slice(article_id: str, start: int, end: int) -> str:
        return ARTICLE[start:end]

    def passages(ids: list[int]) -> dict[int, PassageRow]:
        return {i: rows[i] for i in ids if rows and i in rows}

    def duplicates(hashes: list[str]) -> dict[str, list[str]]:
        return {h: (copies or {})[h] for h in hashes if h in (copies or {})}

    def articles_passages(article_ids: list[str]) -> dict[str, np.ndarray]:
        # each copy's first passage is the row 10 of article "a" under its own id
        return {a: np.array([10]) for a in article_ids}

    return SimpleNamespace(
        article_slice=article_slice,
        passages=passages,
        duplicates=duplicates,
        articles_passages=articles_passages,
    )


def test_an_overlapping_next_passage_extends_the_hit_to_the_article_span() -> None:
    hit, nxt = _row(0, 0, 40), _row(1, 21, 57)  # they share "Second one follows."
    merged = _merged(_reader(), hit, [nxt])
    assert (merged.start, merged.end, merged.text) == (0, 57, ARTICLE[0:57])
    assert (merged.id, merged.position) == (hit.id, hit.position)  # still the ranked passage
    assert merged.sentences is not None
    assert all(merged.text[a:b] in ARTICLE for a, b in merged.sentences)
    assert merged.text[slice(*merged.sentences[-1])] == "Third closes it."


def test_a_previous_passage_separated_by_whitespace_is_merged_through_the_article() -> None:
    prev, hit = _row(0, 0, 57), _row(1, 59, len(ARTICLE))  # "\n\n" between them
    merged = _merged(_reader(), hit, [prev])
    assert (merged.start, merged.end, merged.text) == (0, len(ARTICLE), ARTICLE)
    assert merged.text[slice(*merged.sentences[-1])] == "It ends."  # type: ignore[misc]


def test_passages_that_are_not_neighbours_in_one_article_are_left_alone() -> None:
    hit = _row(0, 0, 40)
    assert _merged(_reader(), hit, [_row(2, 21, 57)]) is hit  # two positions apart
    assert _merged(_reader(), hit, [_row(1, 21, 57, article="b")]) is hit  # another article


def test_three_passages_merge_into_the_article_span_whichever_ranked() -> None:
    rows = [_row(0, 0, 40), _row(1, 21, 57), _row(2, 59, len(ARTICLE))]
    for hit in rows:
        merged = _merged(_reader(), hit, [r for r in rows if r is not hit])
        assert (merged.start, merged.end, merged.text) == (0, len(ARTICLE), ARTICLE)
        assert (merged.id, merged.position) == (hit.id, hit.position)
        assert [merged.text[a:b] for a, b in merged.sentences or ()][-2:] == [
            "A new paragraph starts",
            "It ends.",
        ]
    assert _merged(_reader(), rows[0], [rows[2]]) is rows[0]  # a gap: left alone


def test_without_stored_spans_the_merged_row_has_none_and_the_highlight_splits_it() -> None:
    merged = _merged(_reader(), _row(0, 0, 40, spans=False), [_row(1, 21, 57)])
    assert merged.text == ARTICLE[0:57] and merged.sentences is None


# --- hits --------------------------------------------------------------------------------------


def _hits(shared: bool) -> list[Any]:
    rows = {10: _row(0, 0, 40), 11: _row(1, 21, 57)}
    reader = _reader(rows, copies={"h": ["a", "b", "c"]})
    config = RetrievalConfig(highlight=False)
    # 10 and 11 of article "a" ranked first and second; 99 (another article) is a passage without its row
    ranked, articles, scores = np.array([10, 11, 99]), np.array([1, 1, 2]), np.array([0.5, 0.4, 0.25])
    copies = listed_copies(reader, ranked[[0, 2]], np.array([shared, False]), config)
    kept, joined = cards(ranked, articles, np.array([1, 2, 3]), [0, 2], copies)
    return hits(reader, "q", ranked[kept], scores[kept], copies, joined, config)


def test_an_unshared_hit_is_merged_with_its_neighbour() -> None:
    [hit] = _hits(shared=False)
    assert (hit.text, hit.start, hit.end, hit.score) == (ARTICLE[0:57], 0, 57, 0.5)
    assert (hit.passage_id, hit.duplicates, hit.highlight) == (10, (), "")


def test_a_syndicated_hit_keeps_the_shared_text_and_lists_the_other_articles() -> None:
    [hit] = _hits(shared=True)
    assert (hit.text, hit.start, hit.end) == (ARTICLE[0:40], 0, 40)
    assert hit.duplicates == ("b", "c")
    assert [(c.article_id, c.date, c.source) for c in hit.copies] == [
        ("b", dt.date(2024, 1, 1), "S"),
        ("c", dt.date(2024, 1, 1), "S"),
    ]


def test_the_highlight_is_chosen_by_the_configured_highlighter(tmp_path: Path) -> None:
    text = "The river rose overnight. Rain fell on the town. The bridge closed at noon."
    row = PassageRow(10, "a", 0, 0, len(text), text, "h", "T", dt.date(2024, 1, 1), "S", None, None)
    weights = np.zeros(len(FEATURES))
    weights[FEATURES.index("position")] = 1.0  # a highlighter that always prefers the last sentence
    LinearRanker(FEATURES, np.zeros(len(FEATURES)), np.ones(len(FEATURES)), weights).save(
        tmp_path / "last.json"
    )

    def highlight(**knobs: Any) -> str:
        config = RetrievalConfig(highlight_corpus_idf=False, **knobs)
        [hit] = hits(_reader({10: row}), "Who?", np.array([10]), np.array([1.0]), {}, {}, config)
        return hit.highlight

    assert highlight(highlighter="lexical") == "The river rose overnight."  # no match: the first
    assert highlight(highlighter_path=tmp_path / "last.json") == "The bridge closed at noon."


# --- the cards of whole answers, over random archives ------------------------------------------


class _Archive:
    """A reader over passages with ids in position order per article, some texts carried word for
    word by other passages: what `pipeline._shown` asks of a backend."""

    def __init__(
        self, article_of: dict[int, int], text_of: dict[int, int], source_of: dict[int, str]
    ) -> None:
        self.article_of, self.text_of, self.source_of = article_of, text_of, source_of  # by passage, article

    def __repr__(self) -> str:
        return f"_Archive({self.article_of}, {self.text_of}, {self.source_of})"

    def text_copies(self, texts: np.ndarray) -> np.ndarray:
        held = list(self.text_of.values())
        return np.array([held.count(t) for t in texts.tolist()], dtype=np.int64)

    def passages(self, ids: list[int]) -> dict[int, Any]:
        def row(pid: int) -> SimpleNamespace:
            article = self.article_of[pid]
            source = self.source_of[article]
            return SimpleNamespace(
                text_hash=str(self.text_of[pid]), article_id=f"a{article}", date=None, source=source, url=None
            )

        return {pid: row(pid) for pid in ids if pid in self.text_of}

    def duplicates(self, hashes: list[str]) -> dict[str, list[str]]:
        carriers = {
            h: sorted({f"a{self.article_of[p]}" for p, t in self.text_of.items() if str(t) == h})
            for h in hashes
        }
        return {h: found for h, found in carriers.items() if len(found) > 1}

    def articles_passages(self, article_ids: list[str]) -> dict[str, np.ndarray]:
        return {
            a: np.array([min(p for p, x in self.article_of.items() if x == int(a[1:]))]) for a in article_ids
        }


Answer = tuple[_Archive, np.ndarray, int, RetrievalConfig, Filters]


@st.composite
def _answers(draw: st.DrawFn) -> Answer:
    sizes = draw(st.lists(st.integers(1, 8), min_size=1, max_size=5))
    article_of: dict[int, int] = {}
    pid = 0
    for article, size in enumerate(sizes):
        pid += draw(st.integers(0, 2))  # ids need not be contiguous across articles
        for _ in range(size):
            article_of[pid] = article
            pid += 1
    pids = list(article_of)
    text_of = {p: p for p in pids}
    if len(sizes) > 1 and draw(st.booleans()):  # a syndicated article: another's text, passage for passage
        pairs = [(i, j) for i in range(len(sizes)) for j in range(len(sizes)) if i != j]
        origin, copy = draw(st.sampled_from(pairs))
        ours = [p for p in pids if article_of[p] == copy]
        for theirs, mine in zip([p for p in pids if article_of[p] == origin], ours, strict=False):
            text_of[mine] = text_of[theirs]
    for p in pids:  # some passages carry another one's text (of the same article or not)
        if draw(st.integers(0, 5)) == 0:
            text_of[p] = text_of[draw(st.sampled_from(pids))]
    source_of = {a: draw(st.sampled_from("xy")) for a in range(len(sizes))}
    sources = draw(st.sampled_from([(), ("x",)]))
    admitted = [p for p in pids if not sources or source_of[article_of[p]] in sources]
    ranked = draw(st.permutations(admitted)) if admitted else []
    ranked = ranked[: draw(st.integers(min(1, len(ranked)), max(1, len(ranked))))]  # the top n only
    config = RetrievalConfig(
        max_per_article=draw(st.integers(1, 3)),
        collapse_duplicates=draw(st.booleans()),
        merge_adjacent=draw(st.booleans()),
    )
    archive = _Archive(article_of, text_of, source_of)
    return (
        archive,
        np.array(ranked, dtype=np.int64),
        draw(st.integers(1, 12)),
        config,
        Filters(sources=sources),
    )


def _check_answer(answer: Answer) -> None:
    """What `_shown` promises (found in three reviews, then by this check over random archives)."""
    archive, ranked, k, config, filters = answer
    if not len(ranked):
        return
    articles = np.array([archive.article_of[p] for p in ranked.tolist()])
    texts = np.array([archive.text_of[p] for p in ranked.tolist()])

    kept, copies, joined = _shown(archive, ranked, articles, texts, k, config, filters)  # type: ignore[arg-type]

    assert len(kept) <= k
    shown = {int(ranked[c]): sorted([int(ranked[c]), *joined.get(int(ranked[c]), [])]) for c in kept}
    owner = {p: card for card, members in shown.items() for p in members}
    assert len(owner) == sum(map(len, shown.values())) and set(owner) <= set(ranked.tolist())
    if config.merge_adjacent:  # a card is a run of one article; cards of one article never touch
        for members in shown.values():
            assert members == list(range(members[0], members[-1] + 1))
            assert len({archive.article_of[p] for p in members}) == 1
        for p, card in owner.items():
            if p + 1 in owner and archive.article_of[p + 1] == archive.article_of[p]:
                assert owner[p + 1] == card
    shown_texts = [archive.text_of[p] for p in owner]
    if config.collapse_duplicates:  # a syndicated text once
        assert len(shown_texts) == len(set(shown_texts))
    first = choose(articles, texts, k, config)
    assert {int(ranked[c]) for c in first} <= set(owner)  # the k chosen first are all shown
    if config.merge_adjacent and len(kept) < k:  # places left: no candidate could have made a card
        touching = {
            archive.text_of[q]
            for q in ranked.tolist()
            if q not in owner
            and any(n in owner and archive.article_of[n] == archive.article_of[q] for n in (q - 1, q + 1))
        }
        for p in ranked.tolist():
            if p in owner or (config.collapse_duplicates and archive.text_of[p] in {*shown_texts, *touching}):
                continue  # shown, or a copy of shown text or of text that only lengthens a card
            article = archive.article_of[p]
            assert any(n in owner and archive.article_of[n] == article for n in (p - 1, p + 1)), p
    for card, members in shown.items():  # a hit lists the articles carrying any of its passages
        listed = sorted({c.article_id for m in members for c in copies.get(m, ())})
        expected: set[str] = set()
        if config.collapse_duplicates:
            for m in members:
                expected |= {
                    f"a{archive.article_of[q]}"
                    for q, t in archive.text_of.items()
                    if t == archive.text_of[m]
                    and archive.article_of[q] != archive.article_of[card]
                    and filters.admits(None, archive.source_of[archive.article_of[q]])
                }
        assert listed == sorted(expected), (card, members)


@settings(max_examples=300, deadline=None)
@given(_answers())
def test_an_answer_never_shows_text_twice_and_lists_every_copy(answer: Answer) -> None:
    _check_answer(answer)


def test_a_passed_over_neighbour_taken_in_lists_its_copies() -> None:
    # found in review: card 0 takes in passage 1, whose text article 2 carries, unlisted
    archive = _Archive({0: 0, 1: 0, 2: 1, 3: 2}, {0: 0, 1: 1, 2: 2, 3: 1}, {0: "x", 1: "x", 2: "x"})
    _check_answer((archive, np.array([0, 1, 2, 3]), 2, RetrievalConfig(), Filters()))
