"""Tests for qa.retrieval.query: time expressions become a window and leave the matched text."""

from __future__ import annotations

import datetime as dt

from qa.hits import Interpretation
from qa.retrieval.query import Query, QuestionClock, read_query
from qa.retrieval.timeparse import interpret_time

D = dt.date
AS_OF = D(2023, 11, 20)
NOVEMBER = "What happened in November 2023?"


def read(question: str, *, interpret: bool = True, explicit_dates: bool = False, strip: bool = True) -> Query:
    clock = QuestionClock(AS_OF, "as_of")
    return read_query(question, clock, interpret=interpret, explicit_dates=explicit_dates, strip_time=strip)


def test_the_time_parser_reads_the_month_and_its_words() -> None:
    found = interpret_time(NOVEMBER, AS_OF)

    assert found is not None
    assert (found.since, found.until, found.text) == (D(2023, 11, 1), D(2023, 11, 30), "in November 2023")


def test_a_month_in_the_question_becomes_the_window_and_leaves_the_text() -> None:
    query = read(NOVEMBER)

    assert query.window == (D(2023, 11, 1), D(2023, 11, 30))
    # Fixed dates: no anchor. Nothing but news of that month is asked for: the window filters.
    november = Interpretation(D(2023, 11, 1), D(2023, 11, 30), "in November 2023", filtered=True)
    assert query.interpreted == november
    assert query.window_filter
    assert query.text == "What happened ?"


def test_a_relative_expression_is_read_against_as_of() -> None:
    query = read("Who opened the metro last week?")

    assert query.window == (D(2023, 11, 6), AS_OF)
    assert query.interpreted is not None
    assert (query.interpreted.anchor, query.interpreted.clock) == (AS_OF, "as_of")
    assert not query.window_filter  # the metro is what is asked about; the week is preferred
    assert query.text == "Who opened the metro ?"


def test_every_expression_of_several_is_stripped_and_the_window_spans_them() -> None:
    query = read("Earthquake news in 2024 and in May 2023?")

    assert query.window == (D(2023, 5, 1), D(2024, 12, 31))
    assert query.interpreted is not None and query.interpreted.text == "in 2024; in May 2023"
    assert "2024" not in query.text and "May" not in query.text
    assert query.text == "Earthquake news and ?"


def test_explicit_dates_give_no_window_but_the_words_are_still_stripped() -> None:
    query = read(NOVEMBER, explicit_dates=True)
    set_aside = Interpretation(D(2023, 11, 1), D(2023, 11, 30), "in November 2023", set_aside=True)

    assert query == Query("What happened ?", None, set_aside, words=NOVEMBER)  # said, not used
    assert set_aside.description == (
        "not reading 'in November 2023' as dates (2023-11-01 to 2023-11-30): the request's since/until decide"
    )


def test_without_strip_time_the_window_is_kept_and_the_text_is_untouched() -> None:
    query = read(NOVEMBER, strip=False)

    assert query.text == NOVEMBER
    assert query.window == (D(2023, 11, 1), D(2023, 11, 30))


def test_explicit_dates_without_strip_time_leave_the_question_as_asked() -> None:
    query = read(NOVEMBER, explicit_dates=True, strip=False)
    assert (query.text, query.window, query.words) == (NOVEMBER, None, NOVEMBER)
    assert query.interpreted is not None and query.interpreted.set_aside


def test_without_interpretation_the_question_is_untouched() -> None:
    assert read(NOVEMBER, interpret=False) == Query(NOVEMBER, None, None, words=NOVEMBER)


def test_a_question_without_time_expressions_is_untouched() -> None:
    question = "Which station did the Baku metro open?"
    assert read(question) == Query(question, None, None, words=question)


def test_spacing_left_by_stripping_is_collapsed() -> None:
    assert read("Metro   news  in November 2023  from Baku").text == "Metro news from Baku"


def test_the_words_keep_the_time_expressions_that_the_text_loses() -> None:
    query = read(NOVEMBER)

    assert query.text == "What happened ?"
    assert query.words == NOVEMBER
