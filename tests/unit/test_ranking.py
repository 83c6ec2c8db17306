"""Tests for qa.retrieval.ranking: the question's window, date factors and article evidence."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from embeddings.backends import UNDATED
from qa.retrieval.config import RetrievalConfig
from qa.retrieval.ranking import date_factors, inside, with_article_evidence

D = dt.date
NOV_1, NOV_30 = D(2023, 11, 1), D(2023, 11, 30)
# undated, the day before the window, its first day, its last day, the day after
DAYS = np.array(
    [UNDATED, D(2023, 10, 31).toordinal(), NOV_1.toordinal(), NOV_30.toordinal(), D(2023, 12, 1).toordinal()]
)
NO_RECENCY = {"recency_weight": 0.0}


# --- inside ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("window", "expected"),
    [
        ((NOV_1, NOV_30), [False, False, True, True, False]),
        ((None, NOV_30), [False, True, True, True, False]),
        ((NOV_1, None), [False, False, True, True, True]),
        ((None, None), [False, True, True, True, True]),
    ],
)
def test_inside_is_inclusive_and_never_holds_undated_days(
    window: tuple[dt.date | None, dt.date | None], expected: list[bool]
) -> None:
    assert inside(DAYS, window).tolist() == expected


# --- date_factors ------------------------------------------------------------------------------


def test_time_boost_multiplies_only_the_days_inside_the_window() -> None:
    config = RetrievalConfig(time_boost=0.5, **NO_RECENCY)

    factors = date_factors(DAYS, (NOV_1, NOV_30), D(2024, 1, 1), config)

    assert factors.tolist() == [1.0, 1.0, 1.5, 1.5, 1.0]


def test_without_a_window_the_time_boost_does_nothing() -> None:
    config = RetrievalConfig(time_boost=0.5, **NO_RECENCY)

    assert date_factors(DAYS, None, D(2024, 1, 1), config).tolist() == [1.0] * 5


def test_recency_halves_its_bonus_every_half_life_and_leaves_undated_alone() -> None:
    as_of = D(2024, 1, 31)
    config = RetrievalConfig(time_boost=0.0, recency_weight=0.5, recency_half_life_days=10)
    days = np.array([as_of.toordinal() - age for age in (0, 10, 20)] + [UNDATED])

    factors = date_factors(days, None, as_of, config)

    assert factors.tolist() == pytest.approx([1.5, 1.25, 1.125, 1.0])


def test_a_day_after_as_of_counts_as_age_zero() -> None:
    as_of = D(2024, 1, 31)
    config = RetrievalConfig(time_boost=0.0, recency_weight=0.5, recency_half_life_days=10)

    factors = date_factors(np.array([as_of.toordinal() + 30]), None, as_of, config)

    assert factors.tolist() == [1.5]


def test_window_boost_and_recency_multiply() -> None:
    config = RetrievalConfig(time_boost=1.0, recency_weight=1.0, recency_half_life_days=1)
    days = np.array([NOV_30.toordinal(), D(2023, 12, 1).toordinal()])

    factors = date_factors(days, (NOV_1, NOV_30), D(2023, 12, 1), config)

    assert factors.tolist() == pytest.approx([2.0 * 1.5, 2.0])


@pytest.mark.parametrize(
    "knobs", [{"recency_weight": 0.0}, {"recency_half_life_days": 0.0}], ids=["weight-0", "half-life-0"]
)
def test_recency_switched_off_gives_all_ones(knobs: dict[str, float]) -> None:
    config = RetrievalConfig(time_boost=0.0, **knobs)

    assert date_factors(DAYS, None, D(2023, 12, 1), config).tolist() == [1.0] * 5


# --- with_article_evidence ---------------------------------------------------------------------


def test_each_passage_is_credited_with_its_articles_second_and_third_best() -> None:
    articles = np.array([1, 1, 2, 1, 3, 1, 3])
    scores = np.array([1.0, 4.0, 5.0, 2.0, 1.0, 3.0, 0.5])  # article 1: 4 > 3 > 2 > 1

    boosted = with_article_evidence(articles, scores, 0.5)

    bonus = {1: 0.5 * (3.0 + 2.0), 2: 0.0, 3: 0.5 * 0.5}
    assert boosted.tolist() == pytest.approx([s + bonus[a] for a, s in zip(articles, scores, strict=True)])


def test_a_zero_weight_leaves_scores_unchanged() -> None:
    scores = np.array([0.3, 0.2, 0.1])

    assert with_article_evidence(np.array([1, 1, 1]), scores, 0.0).tolist() == [0.3, 0.2, 0.1]
