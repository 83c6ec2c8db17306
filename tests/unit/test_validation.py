"""Tests for qa.validation and the service's use of it: a bad request is an InvalidRequestError."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from embeddings.errors import InvalidRequestError, QAError
from qa.service import QAService, open_service
from qa.settings import Settings
from qa.validation import check_dates, check_k, check_question
from tests.support.fakes import FakeEncoder


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


# --- the service checks what it is asked -------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "options", "mentions"),
    [
        ("metro", {"k": 0}, "k must be between 1 and 100, got 0"),
        ("metro", {"k": 101}, "got 101"),
        ("metro", {"since": dt.date(2023, 12, 1), "until": dt.date(2023, 11, 1)}, "is after until"),
        ("", {}, "empty"),
        ("  \n ", {}, "empty"),
        ("x" * 1001, {}, "1000 characters"),
    ],
)
def test_ask_raises_invalid_request_for_a_bad_request(
    service: QAService, question: str, options: dict[str, Any], mentions: str
) -> None:
    with pytest.raises(InvalidRequestError, match=mentions):
        service.ask(question, **options)


def test_ask_batch_rejects_a_bad_question_among_good_ones(service: QAService) -> None:
    with pytest.raises(InvalidRequestError, match="empty"):
        service.ask_batch(["metro", " "])


@pytest.mark.parametrize("k", [0, 101])
def test_related_raises_invalid_request_for_k_out_of_range(service: QAService, k: int) -> None:
    with pytest.raises(InvalidRequestError, match="k must be between"):
        service.related("pipeline-a", k)


def test_the_service_limits_are_its_own_settings(service: QAService) -> None:
    service.max_k, service.max_question_chars = 3, 5

    with pytest.raises(InvalidRequestError, match="between 1 and 3"):
        service.ask("metro", k=4)
    with pytest.raises(InvalidRequestError, match="longer than 5"):
        service.ask("metro station")
    assert len(service.ask(" metro ", k=3).hits) == 3


def test_open_service_takes_the_limits_from_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_encoder: FakeEncoder
) -> None:
    monkeypatch.setattr("qa.service.load_encoder", lambda *args, **kwargs: fake_encoder)
    # encoder="torch": open_service then leaves FAISS's process-wide thread count alone.
    settings = Settings(index_dir=tmp_path / "index", encoder="torch", max_k=7, max_question_chars=9)

    qa = open_service(settings)

    assert (qa.max_k, qa.max_question_chars) == (7, 9)
