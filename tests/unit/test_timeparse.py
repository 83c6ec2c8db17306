"""Tests for qa.retrieval.timeparse: explicit time expressions in questions become date windows."""

from __future__ import annotations

import datetime as dt

import pytest

from qa.retrieval.timeparse import TimeWindow, interpret_time

D = dt.date
AS_OF = D(2023, 11, 20)  # a Monday


def window(question: str, as_of: dt.date = AS_OF) -> tuple[dt.date | None, dt.date | None]:
    found = interpret_time(question, as_of)
    assert found is not None, question
    return found.since, found.until


# --- absolute expressions -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "since", "until"),
    [
        ("What happened in November 2023?", D(2023, 11, 1), D(2023, 11, 30)),
        ("Who won the vote in Nov. 2023?", D(2023, 11, 1), D(2023, 11, 30)),
        ("What happened in November of 2022?", D(2022, 11, 1), D(2022, 11, 30)),
        ("Who spoke on 1 December 2021?", D(2021, 12, 1), D(2021, 12, 1)),
        ("Who spoke on December 1, 2021?", D(2021, 12, 1), D(2021, 12, 1)),
        ("What was announced December 1st, 2021?", D(2021, 12, 1), D(2021, 12, 1)),
        ("What was announced on the 1st of December 2021?", D(2021, 12, 1), D(2021, 12, 1)),
        ("What was announced on Dec 1 2021?", D(2021, 12, 1), D(2021, 12, 1)),
        ("What happened on 2021-12-01?", D(2021, 12, 1), D(2021, 12, 1)),
        ("What happened on 2021/12/01?", D(2021, 12, 1), D(2021, 12, 1)),
        ("Who won the league in 2019?", D(2019, 1, 1), D(2019, 12, 31)),
        ("In 2019, who won the league?", D(2019, 1, 1), D(2019, 12, 31)),
        ("What were the best films of 2022?", D(2022, 1, 1), D(2022, 12, 31)),
        ("What was 2023's biggest merger?", D(2023, 1, 1), D(2023, 12, 31)),
        ("What happened during 1999?", D(1999, 1, 1), D(1999, 12, 31)),
        ("Which bands were popular in the 1990s?", D(1990, 1, 1), D(1999, 12, 31)),
    ],
)
def test_absolute_expressions_give_their_period(question: str, since: dt.date, until: dt.date) -> None:
    assert window(question) == (since, until)


@pytest.mark.parametrize("question", ["in early 2023", "in late 2023", "in mid-2023", "by the end of 2023"])
def test_early_late_mid_are_the_whole_year(question: str) -> None:
    assert window(question) == (D(2023, 1, 1), D(2023, 12, 31))


def test_matched_text_includes_the_preposition() -> None:
    found = interpret_time("What happened in November 2023 in Gaza?", AS_OF)
    assert found == TimeWindow(D(2023, 11, 1), D(2023, 11, 30), "in November 2023")


def test_result_is_a_frozen_dataclass() -> None:
    found = interpret_time("in 2019", AS_OF)
    assert isinstance(found, TimeWindow)
    with pytest.raises(AttributeError):
        found.since = None  # type: ignore[misc]


# --- modifiers and ranges -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "since", "until"),
    [
        ("What changed since March 2023?", D(2023, 3, 1), None),
        ("What changed since 2020?", D(2020, 1, 1), None),
        ("What happened after 2020?", D(2021, 1, 1), None),
        ("What happened after March 2023?", D(2023, 4, 1), None),
        ("Who led the party before 2020?", None, D(2019, 12, 31)),
        ("Who led the party before March 2023?", None, D(2023, 2, 28)),
        ("Who led prior to 2020?", None, D(2019, 12, 31)),
        ("What happened until June 2022?", None, D(2022, 6, 30)),
        ("What happened from 2021 onwards?", D(2021, 1, 1), None),
        ("What changed since last year?", D(2022, 1, 1), None),
    ],
)
def test_modifiers_open_one_side(question: str, since: dt.date | None, until: dt.date | None) -> None:
    assert window(question) == (since, until)


@pytest.mark.parametrize(
    ("question", "since", "until"),
    [
        ("What happened before the 1990s?", None, D(1989, 12, 31)),
        ("What happened after the 1990s?", D(2000, 1, 1), None),
        ("What changed since the early 2000s?", D(2000, 1, 1), None),
        ("What happened before the 5th of November?", None, D(2023, 11, 4)),
        ("What changed since the 5th of March 2023?", D(2023, 3, 5), None),
        ("What changed since the March 5 vote?", D(2023, 3, 5), None),
        ("What happened from the 1980s to the 1990s?", D(1980, 1, 1), D(1999, 12, 31)),
    ],
)
def test_a_modifier_before_the_counts(question: str, since: dt.date | None, until: dt.date | None) -> None:
    assert window(question) == (since, until)  # not the 1990s themselves, or one day


@pytest.mark.parametrize(
    "question",
    ["What happened in the 2020 election?", "Since the 2020 vote?", "In the March rally, who spoke?"],
)
def test_a_year_or_month_after_the_stays_a_name(question: str) -> None:
    assert interpret_time(question, AS_OF) is None


@pytest.mark.parametrize(
    ("question", "since", "until"),
    [
        ("Who ruled between 2019 and 2021?", D(2019, 1, 1), D(2021, 12, 31)),
        ("Who ruled from 2019 to 2021?", D(2019, 1, 1), D(2021, 12, 31)),
        ("Who ruled from 2019 through 2021?", D(2019, 1, 1), D(2021, 12, 31)),
        ("Who ruled in 2019-2021?", D(2019, 1, 1), D(2021, 12, 31)),
        ("Who won the 2019–20 title in 2019–20?", D(2019, 1, 1), D(2020, 12, 31)),
        ("What happened from March to May 2023?", D(2023, 3, 1), D(2023, 5, 31)),
        ("What happened between March 2022 and May 2023?", D(2022, 3, 1), D(2023, 5, 31)),
        ("What happened between 1 March 2023 and 5 March 2023?", D(2023, 3, 1), D(2023, 3, 5)),
    ],
)
def test_ranges_span_both_ends(question: str, since: dt.date, until: dt.date) -> None:
    assert window(question) == (since, until)


@pytest.mark.parametrize(
    "question",
    [
        "What happened between 1 and 3 November 2023?",
        "What happened from 1 to 3 November 2023?",
        "Show news from 1-3 November 2023",
        "What happened on November 1-3, 2023?",
        "What happened on November 1–3, 2023?",
        "What happened on 1–3 Nov 2023?",
        "What happened from November 1 to 3, 2023?",
        "What happened between November 1 and 3, 2023?",
        "What happened on the 1st-3rd of November 2023?",
        # Already read right before day ranges existed.
        "What happened between November 1 and November 3, 2023?",
        "What happened between 1 November and 3 November 2023?",
    ],
)
def test_day_ranges_in_one_month(question: str) -> None:
    found = interpret_time(question, AS_OF)
    assert found is not None and found.relative is False
    assert (found.since, found.until) == (D(2023, 11, 1), D(2023, 11, 3))


def test_day_range_text_and_from_stays_closed() -> None:
    found = interpret_time("Show news from 1-3 November 2023 in Gaza", AS_OF)
    assert found == TimeWindow(D(2023, 11, 1), D(2023, 11, 3), "from 1-3 November 2023")
    found = interpret_time("What happened on November 1-3, 2023?", AS_OF)
    assert found is not None and found.text == "on November 1-3, 2023"


@pytest.mark.parametrize(
    ("question", "as_of", "since", "until"),
    [
        ("What happened on Nov. 1-3?", AS_OF, D(2023, 11, 1), D(2023, 11, 3)),
        ("What happened between 1 and 3 Nov.?", AS_OF, D(2023, 11, 1), D(2023, 11, 3)),
        # Read like a year-less "November 3": the most recent one not after as_of.
        ("What happened on Nov. 1-3?", D(2023, 11, 2), D(2022, 11, 1), D(2022, 11, 3)),
        ("What happened on Feb 28-29?", D(2023, 6, 1), D(2020, 2, 28), D(2020, 2, 29)),
        ("what happened on may 1-3?", AS_OF, D(2023, 5, 1), D(2023, 5, 3)),
    ],
)
def test_year_less_day_range_is_the_most_recent_one(
    question: str, as_of: dt.date, since: dt.date, until: dt.date
) -> None:
    found = interpret_time(question, as_of)
    assert found is not None and found.relative is True
    assert (found.since, found.until) == (since, until)


@pytest.mark.parametrize(
    ("question", "since", "until"),
    [
        # Descending days are no range: the full date after them is read on its own.
        ("What happened between 5 and 3 November 2023?", D(2023, 11, 3), D(2023, 11, 3)),
        # Scores and counts are not days.
        ("Who won 3-1 in November 2023?", D(2023, 11, 1), D(2023, 11, 30)),
        ("Who suffered a 1-3 loss on 3 November 2023?", D(2023, 11, 3), D(2023, 11, 3)),
        # A word between the days needs "between"/"from" in front: "on 1 and 3" is two days.
        ("What happened on 1 and 3 November 2023?", D(2023, 11, 3), D(2023, 11, 3)),
        ("What happened between 1 to 3 November 2023?", D(2023, 11, 3), D(2023, 11, 3)),
    ],
)
def test_numbers_that_are_no_day_range(question: str, since: dt.date, until: dt.date) -> None:
    assert window(question) == (since, until)


@pytest.mark.parametrize(
    "question", ["Who may 1-3 people elect?", "What happened on November 1-31, 2023?", "Who won 2-1?"]
)
def test_no_window_from_impossible_or_unsupported_day_ranges(question: str) -> None:
    assert interpret_time(question, AS_OF) is None


def test_from_a_year_range_stays_closed() -> None:
    found = interpret_time("What happened from 2019-2021?", AS_OF)
    assert found == TimeWindow(D(2019, 1, 1), D(2021, 12, 31), "from 2019-2021")  # not 2019 onwards
    assert window("Who won from 2019–20?") == (D(2019, 1, 1), D(2020, 12, 31))


def test_range_text_covers_the_whole_expression() -> None:
    found = interpret_time("Who ruled between 2019 and 2021 in Chile?", AS_OF)
    assert found is not None and found.text == "between 2019 and 2021"


def test_year_after_and_counts_only_in_a_range_or_a_list() -> None:
    assert window("What happened in 2019 and 2020?") == (D(2019, 1, 1), D(2020, 12, 31))
    # "and 2021" with no year context before it is not a year.
    assert interpret_time("Scores were 3 and 2021 points", AS_OF) is None


def test_between_needs_and() -> None:
    # "between 2019 to 2021" is not a well-formed range: only the first year counts.
    assert window("between 2019 to 2021") == (D(2019, 1, 1), D(2019, 12, 31))


# --- relative expressions -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "since", "until"),
    [
        ("What happened today?", AS_OF, AS_OF),
        ("What happened yesterday?", D(2023, 11, 19), AS_OF),
        ("What happened last night?", D(2023, 11, 19), AS_OF),
        ("Who resigned this week?", D(2023, 11, 13), AS_OF),
        ("Who resigned earlier this week?", D(2023, 11, 13), AS_OF),
        ("Who resigned last week?", D(2023, 11, 6), AS_OF),
        ("Who won this weekend?", D(2023, 11, 13), AS_OF),
        ("Who resigned this month?", D(2023, 11, 1), AS_OF),
        ("Who resigned last month?", D(2023, 10, 1), D(2023, 10, 31)),
        ("Who resigned this year?", D(2023, 1, 1), AS_OF),
        ("Who resigned last year?", D(2022, 1, 1), D(2022, 12, 31)),
        ("What happened in the past 3 days?", D(2023, 11, 17), AS_OF),
        ("What happened in the past two weeks?", D(2023, 11, 6), AS_OF),
        ("What happened in the last 6 months?", D(2023, 5, 20), AS_OF),
        ("What happened over the past year?", D(2022, 11, 20), AS_OF),
        ("What happened over the past month?", D(2023, 10, 20), AS_OF),
        ("What happened two weeks ago?", D(2023, 10, 30), D(2023, 11, 13)),
        ("What happened 3 days ago?", D(2023, 11, 16), D(2023, 11, 18)),
        ("What happened two years ago?", D(2021, 1, 1), D(2021, 12, 31)),
    ],
)
def test_relative_expressions_use_as_of(question: str, since: dt.date, until: dt.date) -> None:
    assert window(question) == (since, until)


def test_the_day_before_yesterday_is_that_day_not_everything_before_it() -> None:
    found = interpret_time("What happened the day before yesterday?", AS_OF)
    assert found == TimeWindow(D(2023, 11, 18), D(2023, 11, 19), "the day before yesterday", relative=True)
    assert window("What happened since the day before yesterday?") == (D(2023, 11, 18), None)


def test_last_month_in_january_is_december_of_previous_year() -> None:
    assert window("Who resigned last month?", D(2024, 1, 15)) == (D(2023, 12, 1), D(2023, 12, 31))


def test_last_month_in_march_of_a_leap_year_ends_on_february_29() -> None:
    assert window("Who resigned last month?", D(2024, 3, 10)) == (D(2024, 2, 1), D(2024, 2, 29))
    assert window("Who resigned last month?", D(2023, 3, 10)) == (D(2023, 2, 1), D(2023, 2, 28))


def test_past_month_clamps_to_the_shorter_month() -> None:
    assert window("in the past month", D(2024, 3, 31)) == (D(2024, 2, 29), D(2024, 3, 31))


def test_last_week_across_a_year_boundary() -> None:
    assert window("What happened last week?", D(2024, 1, 3)) == (D(2023, 12, 20), D(2024, 1, 3))


def test_this_week_in_the_automaker_quiz_question() -> None:
    question = "Which automaker recalled more than 112,000 vehicles this week due to a roll-away risk?"
    found = interpret_time(question, D(2024, 1, 12))
    assert found == TimeWindow(D(2024, 1, 5), D(2024, 1, 12), "this week", relative=True)


# --- year-less months and days --------------------------------------------------------------


def test_month_without_year_is_the_most_recent_one_not_after_as_of() -> None:
    assert window("What happened in November?") == (D(2023, 11, 1), D(2023, 11, 30))
    assert window("What happened in October?") == (D(2023, 10, 1), D(2023, 10, 31))
    assert window("What happened in December?") == (D(2022, 12, 1), D(2022, 12, 31))


def test_last_and_this_with_a_month_name() -> None:
    assert window("What happened last November?") == (D(2022, 11, 1), D(2022, 11, 30))
    assert window("What happened last October?") == (D(2023, 10, 1), D(2023, 10, 31))
    assert window("What happened this March?") == (D(2023, 3, 1), D(2023, 3, 31))


def test_day_without_year_is_the_most_recent_one_not_after_as_of() -> None:
    assert window("Who did the minister receive on November 1?") == (D(2023, 11, 1), D(2023, 11, 1))
    assert window("What happened on November 20?") == (D(2023, 11, 20), D(2023, 11, 20))
    assert window("What happened on November 21?") == (D(2022, 11, 21), D(2022, 11, 21))
    assert window("What happened on the 5th of November?") == (D(2023, 11, 5), D(2023, 11, 5))
    assert window("What happened on 25 December?") == (D(2022, 12, 25), D(2022, 12, 25))


def test_february_29_without_year_goes_back_to_a_leap_year() -> None:
    assert window("What happened on February 29?", D(2023, 6, 1)) == (D(2020, 2, 29), D(2020, 2, 29))
    assert window("What happened on February 29?", D(2024, 3, 1)) == (D(2024, 2, 29), D(2024, 2, 29))


def test_february_length_follows_leap_years() -> None:
    assert window("in February 2024") == (D(2024, 2, 1), D(2024, 2, 29))
    assert window("in February 2023") == (D(2023, 2, 1), D(2023, 2, 28))
    assert window("in February 2000") == (D(2000, 2, 1), D(2000, 2, 29))
    assert window("in February 1900") == (D(1900, 2, 1), D(1900, 2, 28))


@pytest.mark.parametrize(
    "question", ["on February 30, 2021", "on 2021-02-29", "on 2021-13-01", "on April 31"]
)
def test_impossible_dates_are_ignored(question: str) -> None:
    assert interpret_time(question, AS_OF) is None


def test_year_less_range_start_is_anchored_to_its_end() -> None:
    # Asked in April 2024, "between March and May" cannot mean May 2023 .. March 2024.
    assert window("What happened between March and May?", D(2024, 6, 1)) == (D(2024, 3, 1), D(2024, 5, 31))


# --- things that are not time expressions ---------------------------------------------------


@pytest.mark.parametrize(
    "question",
    [
        "Who beat 16-year-old darts prodigy Luke Littler in the world championship final?",
        "Which automaker recalled more than 112,000 vehicles due to a roll-away risk?",
        "How did 3 people survive the crash?",
        "Who donated $2019 to the campaign?",
        "How many Covid-19 cases were reported?",
        "Which country ordered the F-35?",
        "Who scored in Game 7?",
        "What is new in the iPhone 15?",
        "Who may run for president?",
        "What this may mean for the talks",
        "Who led the protest march?",
        "Will thousands march in Paris?",
        "Why did the sun set so early?",
        "Why did Theresa May resign?",
        "Who bought 2019 shares?",
        "How were 2000 cases handled in 2000 cases?",
        "What is the 2020 strategy?",
        "Who won the 1500 m race?",
        "Why were 2,019 people evacuated?",
        "What is 2019.5 as a fraction?",
        "",
    ],
)
def test_non_time_numbers_and_words_do_not_fire(question: str) -> None:
    assert interpret_time(question, AS_OF) is None


def test_lowercase_may_and_march_count_after_a_preposition() -> None:
    assert window("what happened in may?") == (D(2023, 5, 1), D(2023, 5, 31))
    assert window("who will march in march?") == (D(2023, 3, 1), D(2023, 3, 31))
    assert window("what happened on may 5?") == (D(2023, 5, 5), D(2023, 5, 5))
    assert interpret_time("Who may 5 people elect?", AS_OF) is None


def test_years_outside_1900_2100_are_not_years() -> None:
    assert interpret_time("What happened in 1850?", AS_OF) is None
    assert interpret_time("What happened in 2150?", AS_OF) is None
    assert window("What happened in 1900?") == (D(1900, 1, 1), D(1900, 12, 31))


# --- several expressions --------------------------------------------------------------------


def test_several_expressions_combine_into_the_widest_window() -> None:
    found = interpret_time("What changed between the talks in March 2022 and the deal in 2023?", AS_OF)
    assert found is not None
    assert (found.since, found.until) == (D(2022, 3, 1), D(2023, 12, 31))
    assert found.text == "in March 2022; in 2023"


def test_an_open_side_stays_open_when_combined() -> None:
    assert window("What happened since 2020, especially in 2022?") == (D(2020, 1, 1), None)


@pytest.mark.parametrize(
    ("question", "since", "until"),
    [
        ("What happened after 2020 but before 2022?", D(2021, 1, 1), D(2021, 12, 31)),
        ("What happened since 2020 and until 2022?", D(2020, 1, 1), D(2022, 12, 31)),
        ("What happened from March 2023 until today?", D(2023, 3, 1), AS_OF),
    ],
)
def test_a_start_and_an_end_said_apart_bound_one_window(
    question: str, since: dt.date, until: dt.date
) -> None:
    assert window(question) == (since, until)  # not any date at all


def test_a_start_after_the_end_leaves_both_sides_open() -> None:
    assert window("What happened before 2000 or after 2020?") == (None, None)


def test_the_longest_expression_wins_over_its_parts() -> None:
    found = interpret_time("on December 1, 2021", AS_OF)
    assert found == TimeWindow(D(2021, 12, 1), D(2021, 12, 1), "on December 1, 2021")


def test_question_without_time_returns_none() -> None:
    assert interpret_time("Who is the defense minister of Azerbaijan?", AS_OF) is None


@pytest.mark.parametrize(
    ("question", "relative"),
    [
        ("What happened last week?", True),
        ("Who resigned in November?", True),
        ("Who resigned on November 1?", True),
        ("Who resigned between March and May?", True),
        ("Who resigned in November 2023?", False),
        ("Who resigned between March and May 2023?", False),
        ("Who resigned in 2023 and this week?", True),
    ],
)
def test_relative_says_whether_the_window_depends_on_the_anchor(question: str, relative: bool) -> None:
    found = interpret_time(question, AS_OF)
    assert found is not None and found.relative is relative


@pytest.mark.parametrize(
    ("question", "since", "until"),
    [
        ("What happened in May last year?", D(2022, 5, 1), D(2022, 5, 31)),
        ("in May of last year", D(2022, 5, 1), D(2022, 5, 31)),
        ("in May, last year", D(2022, 5, 1), D(2022, 5, 31)),
        ("What happened in January this year?", D(2023, 1, 1), D(2023, 1, 31)),
    ],
)
def test_a_month_with_last_or_this_year_is_that_month(question: str, since: dt.date, until: dt.date) -> None:
    window = interpret_time(question, AS_OF)
    assert window is not None and (window.since, window.until) == (since, until)  # not Jan 2022-May 2023
    assert window.relative  # read against the clock


def test_a_month_and_last_year_apart_are_both_kept() -> None:
    window = interpret_time("in May and last year", AS_OF)
    assert window is not None and (window.since, window.until) == (D(2022, 1, 1), D(2023, 5, 31))


@pytest.mark.parametrize(
    "question", ["news in November", "between November and December", "since November", "late November"]
)
@pytest.mark.parametrize("as_of", [D(1, 1, 1), D(1, 6, 1), D(9999, 12, 31)])
def test_a_month_with_no_year_at_the_ends_of_the_calendar_reads_nothing_or_a_window(
    question: str, as_of: dt.date
) -> None:
    interpret_time(question, as_of)  # no ValueError from a year 0 or 10000 (a 500 over HTTP)


@pytest.mark.parametrize(
    ("question", "since", "until"),
    [
        ("What did Apple report in Q3 2024?", D(2024, 7, 1), D(2024, 9, 30)),
        ("results for the third quarter of 2024", D(2024, 7, 1), D(2024, 9, 30)),
        ("the 4th quarter of 2023", D(2023, 10, 1), D(2023, 12, 31)),
        ("in the first half of 2024", D(2024, 1, 1), D(2024, 6, 30)),
        ("H2 2023 sales", D(2023, 7, 1), D(2023, 12, 31)),
        ("What happened in spring 2023?", D(2023, 3, 1), D(2023, 5, 31)),
        ("the summer of 2024 floods", D(2024, 6, 1), D(2024, 8, 31)),
        ("in fall, 2022", D(2022, 9, 1), D(2022, 11, 30)),
        ("winter 2024 storms", D(2023, 12, 1), D(2024, 2, 29)),
    ],
)
def test_quarters_halves_and_seasons_of_a_named_year(question: str, since: dt.date, until: dt.date) -> None:
    window = interpret_time(question, AS_OF)
    assert window is not None and (window.since, window.until) == (since, until) and not window.relative


@pytest.mark.parametrize(
    "question", ["Will prices fall 2024 levels?", "Q5 2024 plans", "the fourth half of 2024"]
)
def test_what_is_no_part_of_a_year_is_not_read_as_one(question: str) -> None:
    window = interpret_time(question, AS_OF)
    assert window is None or (window.since, window.until) == (D(2024, 1, 1), D(2024, 12, 31))


MARCH_2025 = D(2025, 3, 15)


@pytest.mark.parametrize(
    ("question", "since", "until"),
    [
        ("after the summer of 2024", D(2024, 9, 1), None),
        ("since the summer of 2024", D(2024, 6, 1), None),
        ("before the first half of 2024", None, D(2023, 12, 31)),
        ("until the fall of 2024", None, D(2024, 11, 30)),
        ("since the third quarter of 2024", D(2024, 7, 1), None),
        ("in May last year and June", D(2024, 5, 1), D(2024, 6, 30)),
        ("in May last year, June and July", D(2024, 5, 1), D(2024, 7, 31)),
    ],
)
def test_modifiers_and_lists_hold_for_the_new_forms(
    question: str, since: dt.date | None, until: dt.date | None
) -> None:
    window = interpret_time(question, MARCH_2025)
    assert window is not None and (window.since, window.until) == (since, until)


@pytest.mark.parametrize(
    ("question", "since", "until"),
    [
        ("What happened in March and April 2023?", D(2023, 3, 1), D(2023, 4, 30)),
        ("in March or April 2023", D(2023, 3, 1), D(2023, 4, 30)),
        ("in May, June and July 2024", D(2024, 5, 1), D(2024, 7, 31)),
        ("in November and February 2024", D(2023, 11, 1), D(2024, 2, 29)),  # as "between" reads it
    ],
)
def test_months_listed_before_a_month_with_a_year_are_of_that_year(
    question: str, since: dt.date, until: dt.date
) -> None:
    window = interpret_time(question, MARCH_2025)
    assert window is not None and (window.since, window.until) == (since, until)  # not March 2025
    assert not window.relative


@pytest.mark.parametrize(
    ("question", "since", "until"),
    [
        ("What happened in March '23?", D(2023, 3, 1), D(2023, 3, 31)),  # not March 2025
        ("What happened in Nov. ’24?", D(2024, 11, 1), D(2024, 11, 30)),
        ("plans for December '26", D(2026, 12, 1), D(2026, 12, 31)),
        ("What happened in May '68?", D(1968, 5, 1), D(1968, 5, 31)),
        ("since March '23", D(2023, 3, 1), None),
    ],
)
def test_a_month_with_a_two_digit_year_is_of_that_year(
    question: str, since: dt.date, until: dt.date | None
) -> None:
    window = interpret_time(question, MARCH_2025)
    assert window is not None and (window.since, window.until) == (since, until)


def test_months_listed_before_last_year_keep_the_wider_reading() -> None:
    window = interpret_time("in May and June last year", D(2025, 7, 1))
    assert window is not None and window.since <= D(2024, 5, 1) and window.until >= D(2024, 6, 30)
