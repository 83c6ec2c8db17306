"""Tests for time words read against the archive's clock, and the time filter over the whole index."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from embeddings.articles import Article
from embeddings.backends import UNDATED, Filters
from qa.hits import Interpretation
from qa.retrieval import RetrievalConfig, question_clock, read_query
from qa.retrieval.pipeline import within
from qa.retrieval.ranking import inside
from qa.service import QAService
from tests.support.fakes import FakeEncoder
from tests.support.services import build_service

END = dt.date(2024, 3, 28)  # the archive's newest article, long before today


def harbour(n: int, day: dt.date) -> Article:
    return Article(
        f"old-{n:02d}",
        f"Harbour bridge news {n}",
        f"The harbour bridge opening happened, and the harbour bridge news drew crowds, report {n}.",
        day,
        "Old Times",
    )


def council(n: int, day: dt.date) -> Article:
    return Article(
        f"new-{n}", f"Council item {n}", f"The city council approved a bridge repair, item {n}.", day, "City"
    )


@pytest.fixture
def archive(tmp_path: Path, fake_encoder: FakeEncoder) -> QAService:
    """Forty older articles that match any "harbour bridge" question better than the four of the
    archive's last fortnight; with a dozen candidates, a filter applied after the search finds none."""
    old = [harbour(n, dt.date(2024, 1, 2) + dt.timedelta(days=n)) for n in range(40)]
    recent = [council(n, END - dt.timedelta(days=3 * n)) for n in range(4)]
    qa = build_service(tmp_path / "index", fake_encoder, retrieval=RetrievalConfig(candidates=10))
    qa.add(old + recent)
    return qa


def test_last_week_is_read_against_the_archives_end_when_no_as_of_is_given(archive: QAService) -> None:
    answer = archive.ask("What happened last week?", k=4)

    i = answer.interpreted
    assert i is not None
    assert (i.since, i.until, i.anchor, i.clock) == (END - dt.timedelta(days=14), END, END, "archive")
    assert i.description.startswith("reading 'last week' as 2024-03-14 to 2024-03-28, relative to 2024-03-28")
    assert answer.as_of == dt.date.today()  # nothing is hidden: the as-of date is still today
    # The question asks for nothing but news of that week: the window restricts the search.
    assert i.filtered
    assert sorted(h.article_id for h in answer.hits) == ["new-0", "new-1", "new-2", "new-3"]


def test_an_as_of_date_is_the_clock_when_given(archive: QAService) -> None:
    answer = archive.ask("What happened last week?", k=2, as_of=dt.date(2024, 1, 20))

    i = answer.interpreted
    assert i is not None
    assert (i.since, i.until, i.clock) == (dt.date(2024, 1, 6), dt.date(2024, 1, 20), "as_of")
    assert "relative to the as-of date 2024-01-20" in i.description
    assert all(h.date is not None and i.since <= h.date <= i.until for h in answer.hits)
    assert i.inside == len(answer.hits) == 2


def test_fixed_dates_have_no_anchor(archive: QAService) -> None:
    i = archive.ask("harbour bridge in January 2024", k=1).interpreted

    assert i is not None and (i.anchor, i.clock) == (None, None)
    assert i.description == "reading 'in January 2024' as 2024-01-01 to 2024-01-31"


def test_a_question_with_content_only_prefers_the_window(archive: QAService) -> None:
    answer = archive.ask("harbour bridge news last week", k=3)

    assert answer.interpreted is not None and not answer.interpreted.filtered
    assert all(h.article_id.startswith("old-") for h in answer.hits)  # outside the window, but they answer
    # ... and the answer says so: the archive holds nothing of that week about the harbour bridge.
    assert answer.interpreted.inside == 0
    assert answer.interpreted.description.endswith("; none of the answers is from that window")
    assert answer.interpreted.to_dict()["inside"] == 0


def test_the_answer_counts_its_hits_inside_the_window(archive: QAService) -> None:
    """Hits of both kinds: the count is of those dated inside the window, not of all."""
    answer = archive.ask("council bridge repair and harbour bridge news last week", k=8)

    i = answer.interpreted
    assert i is not None and not i.filtered
    inside = [h for h in answer.hits if h.article_id.startswith("new-")]
    assert inside and len(inside) < len(answer.hits)  # the fixture's four recent ones and older ones
    assert i.inside == len(inside)
    assert "none of the answers" not in i.description


def test_an_answer_counts_inside_by_the_rule_ranking_prefers_the_window_by() -> None:
    """`qa.retrieval.ranking.inside`, which the count uses: bounds included, undated never inside."""
    week = (dt.date(2024, 3, 14), dt.date(2024, 3, 28))
    since_only = (dt.date(2024, 3, 14), None)
    days = np.array([dt.date(2024, 3, d).toordinal() for d in (13, 14, 28)], np.int64)

    assert inside(days, week).tolist() == [False, True, True]
    later = np.array([dt.date(2024, 3, 29).toordinal(), UNDATED], np.int64)
    assert not inside(later, week).any()  # an undated article never is
    assert inside(np.array([dt.date(2030, 1, 1).toordinal(), days[0]]), since_only).tolist() == [True, False]
    read = Interpretation(*week, "last week")
    assert read.inside is None and "none of the answers" not in read.description  # not counted yet


def test_the_time_filter_returns_k_hits_from_the_window_when_k_exist(
    fake_encoder: FakeEncoder, archive: QAService
) -> None:
    strict = build_service(
        archive.backend.root, fake_encoder, retrieval=RetrievalConfig(candidates=10, time_filter=True)
    )

    answer = strict.ask("harbour bridge news last week", k=3)

    assert answer.interpreted is not None and answer.interpreted.filtered
    assert "only articles from that window" in answer.interpreted.description
    assert len(answer.hits) == 3 == answer.interpreted.inside
    assert all(h.article_id.startswith("new-") for h in answer.hits)
    # Explicit dates still win over the question's words, with the filter on too.
    since = dt.date(2024, 1, 1)
    explicit = strict.ask("harbour bridge news last week", k=3, since=since, until=dt.date(2024, 1, 31))
    assert explicit.interpreted is not None and explicit.interpreted.set_aside
    assert all(h.article_id.startswith("old-") for h in explicit.hits)


def test_the_archive_clock_applies_only_to_an_archive_that_ends_before_today() -> None:
    today = dt.date(2026, 12, 4)
    assert question_clock(None, END, today).source == "archive"
    assert question_clock(None, today, today).source == "today"
    assert question_clock(None, today + dt.timedelta(days=3), today).date == today
    assert question_clock(None, None, today).source == "today"
    assert question_clock(END, dt.date(2020, 1, 1), today).source == "as_of"


def test_words_left_after_the_time_decide_whether_the_window_is_a_filter() -> None:
    clock = question_clock(None, END, dt.date(2026, 12, 4))

    def hard(question: str) -> bool:
        query = read_query(question, clock, interpret=True, explicit_dates=False, strip_time=True)
        return query.window_filter

    assert hard("What happened last week?")
    assert hard("Any news yesterday?")
    assert hard("What are the top stories this month?")
    assert not hard("Who won the Iowa caucuses last week?")
    assert not hard("What happened in Gaza last week?")


def test_within_narrows_explicit_dates_to_the_window() -> None:
    window = (dt.date(2024, 3, 14), dt.date(2024, 3, 28))

    assert within(Filters(), window) == Filters(*window)
    narrowed = within(Filters(dt.date(2024, 3, 20), None, ("CNN",)), window)
    assert narrowed == Filters(dt.date(2024, 3, 20), dt.date(2024, 3, 28), ("CNN",))
    assert within(Filters(until=dt.date(2024, 3, 1)), (dt.date(2024, 3, 14), None)) == Filters(
        dt.date(2024, 3, 14), dt.date(2024, 3, 1)
    )


def test_a_question_that_is_only_a_time_keeps_its_words_and_filters() -> None:
    clock = question_clock(None, END, dt.date(2026, 12, 4))

    query = read_query("last week?", clock, interpret=True, explicit_dates=False, strip_time=True)

    assert query.text == "last week?"  # nothing else to match
    assert query.window_filter
