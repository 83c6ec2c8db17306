"""Tests for qa.retrieval.features: each candidate feature computed as its docstring says."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from embeddings.backends import UNDATED, Candidates, Columns
from qa.retrieval.features import FEATURES, QueryFacts, asks_present, candidate_ids, features

AS_OF = dt.date(2024, 3, 31)
DAY = AS_OF.toordinal()
# passage 7: dense only; 3: both lists; 5: lexical only
CANDIDATES = Candidates(np.array([7, 3]), np.array([0.9, 0.6]), np.array([3, 5]), np.array([12.0, 6.0]))


def matrix(
    days: list[int],
    *,
    window: tuple[dt.date | None, dt.date | None] | None = None,
    dated: bool = False,
    present: bool = False,
    articles: list[int] | None = None,
    copies: list[int] | None = None,
    overlap: list[list[float]] | None = None,
) -> dict[str, np.ndarray]:
    ids = candidate_ids(CANDIDATES)
    columns = Columns(np.array(days), np.array(articles or [0, 1, 2]), np.arange(3), np.zeros(3, np.int64))
    facts = QueryFacts(window, AS_OF, dated, present)
    held = None if overlap is None else np.array(overlap)
    x = features(CANDIDATES, ids, columns, np.array(copies or [1, 1, 1]), facts, held)
    assert x.shape == (3, len(FEATURES))
    return {name: x[:, j] for j, name in enumerate(FEATURES)}


def test_candidates_are_the_union_of_both_lists_dense_first() -> None:
    assert candidate_ids(CANDIDATES).tolist() == [7, 3, 5]


def test_dense_features_fill_an_absent_candidate_with_the_lists_lowest_cosine_and_length() -> None:
    f = matrix([DAY] * 3)

    assert f["dense"].tolist() == [0.9, 0.6, 0.6]
    assert f["dense_absent"].tolist() == [0, 0, 1]
    assert f["dense_rank"].tolist() == pytest.approx(np.log1p([0, 1, 2]).tolist())
    assert f["dense_rr"].tolist() == pytest.approx([60 / 61, 60 / 62, 0.0])


def test_lexical_scores_are_relative_to_the_best_and_absent_is_zero() -> None:
    f = matrix([DAY] * 3)

    assert f["lexical"].tolist() == [0.0, 1.0, 0.5]
    assert f["lexical_absent"].tolist() == [1, 0, 0]
    assert f["lexical_rr"].tolist() == pytest.approx([0.0, 60 / 61, 60 / 62])


def test_overlap_fills_coverage_and_bigrams_and_each_article_its_best_coverage() -> None:
    f = matrix([DAY] * 3, articles=[4, 8, 4], overlap=[[0.25, 0.0], [0.5, 0.5], [0.75, 0.25]])

    assert f["coverage"].tolist() == [0.25, 0.5, 0.75]
    assert f["bigrams"].tolist() == [0.0, 0.5, 0.25]
    assert f["article_coverage"].tolist() == [0.75, 0.5, 0.75]
    without = matrix([DAY] * 3)  # no lexical query
    assert not without["coverage"].any() and not without["article_coverage"].any()


def test_window_features_are_zero_without_a_window_and_split_inside_from_outside() -> None:
    days = [DAY, DAY - 40, UNDATED]
    assert not matrix(days)["in_window"].any() and not matrix(days)["out_window"].any()

    f = matrix(days, window=(AS_OF - dt.timedelta(days=7), AS_OF))
    assert f["in_window"].tolist() == [1, 0, 0]
    assert f["out_window"].tolist() == [0, 1, 1]


def test_recency_halves_at_its_half_life_and_is_crossed_with_dated_and_present() -> None:
    days = [DAY, DAY - 7, UNDATED]

    plain = matrix(days)
    assert plain["week"].tolist() == pytest.approx([1.0, 0.5, 0.0])
    assert plain["month"][1] == pytest.approx(0.5 ** (7 / 30))
    assert plain["undated"].tolist() == [0, 0, 1]
    assert not plain["week_dated"].any() and not plain["week_present"].any()

    crossed = matrix(days, dated=True, present=True)
    assert crossed["week_dated"].tolist() == pytest.approx([1.0, 0.5, 0.0])
    assert crossed["year_present"].tolist() == pytest.approx(crossed["year"].tolist())


def test_article_hits_and_copies_are_logs_of_counts() -> None:
    f = matrix([DAY] * 3, articles=[4, 4, 9], copies=[3, 1, 0])

    assert f["article_hits"].tolist() == pytest.approx([np.log(2), np.log(2), 0.0])
    assert f["copies"].tolist() == pytest.approx([np.log(3), 0.0, 0.0])


def test_no_candidates_give_an_empty_matrix() -> None:
    empty = Candidates(*(np.zeros(0, t) for t in (np.int64, np.float32, np.int64, np.float32)))
    ids = candidate_ids(empty)
    columns = Columns(*(np.zeros(0, np.int64) for _ in range(4)))

    assert features(
        empty, ids, columns, np.zeros(0, np.int64), QueryFacts(None, AS_OF, False, False)
    ).shape == (
        0,
        len(FEATURES),
    )


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Which team won the Super Bowl this week?", True),
        ("What is the latest country to join NATO?", True),
        ("Who currently leads the polls?", True),
        ("Who won the Super Bowl in 1954?", False),
        ("Which river flows through Paris?", False),
    ],
)
def test_asks_present_reads_words_about_now(question: str, expected: bool) -> None:
    assert asks_present(question) is expected
