"""Tests for qa.validation and the service's use of it: a bad request is an InvalidRequestError."""

from __future__ import annotations

import datetime as dt

import pytest

from embeddings.errors import InvalidRequestError, QAError
from qa.validation import check_dates, check_k, check_question


def test_check_question_strips_the_question() -> None:
    assert check_question("  metro station \n", max_chars=20) == "metro station"


@pytest.mark.parametrize(("question", "mentions"), [("", "empty"), (" \n\t ", "empty"), ("x" * 11, "10")])
def test_an_empty_or_too_long_question_is_invalid(question: str, mentions: str) -> None:
    with pytest.raises(InvalidRequestError, match=mentions):
        check_question(question, max_chars=10)


def test_a_question_of_exactly_max_chars_is_valid() -> None:
    assert check_question(" " + "x" * 10 + " ", max_chars=10) == "x" * 10


@pytest.mark.parametrize("k", [1, 7, 100])
def test_k_within_range_is_returned(k: int) -> None:
    assert check_k(k, max_k=100) == k


@pytest.mark.parametrize("k", [0, -1, 101])
def test_k_out_of_range_is_invalid_and_says_the_range(k: int) -> None:
    with pytest.raises(InvalidRequestError, match=f"between 1 and 100, got {k}"):
        check_k(k, max_k=100)


@pytest.mark.parametrize(
    ("since", "until"),
    [(None, None), (dt.date(2023, 1, 1), None), (None, dt.date(2023, 1, 1)), (dt.date(2023, 1, 1),) * 2],
)
def test_open_or_ordered_date_bounds_are_valid(since: dt.date | None, until: dt.date | None) -> None:
    check_dates(since, until)


def test_since_after_until_is_invalid() -> None:
    with pytest.raises(InvalidRequestError, match=r"since \(2023-12-01\) is after until \(2023-11-01\)"):
        check_dates(dt.date(2023, 12, 1), dt.date(2023, 11, 1))


def test_invalid_request_error_is_a_project_error() -> None:
    assert issubclass(InvalidRequestError, QAError)
