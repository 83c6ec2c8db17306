"""Tests for qa.validation and the service's use of it: a bad request is an InvalidRequestError."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from embeddings.articles import Article
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


# --- what a script passes: the wrong type is an InvalidRequestError, never read some other way ---


@pytest.mark.parametrize(
    ("options", "mentions"),
    [
        ({"k": "3"}, "k must be a whole number, got str"),
        ({"k": 2.5}, "k must be a whole number, got float"),
        ({"k": True}, "k must be a whole number, got bool"),
        ({"k": None}, "k must be a whole number, got NoneType"),
        ({"sources": "News.Az"}, "sources must be a list of strings, got the string 'News.Az'"),
        ({"sources": ["a", 5]}, r"sources\[1\] must be a string, got int"),
        ({"since": "2023-01-01"}, "since must be a datetime.date, got str"),
        ({"until": 20230101}, "until must be a datetime.date, got int"),
        ({"as_of": "2023-06-01"}, "as_of must be a datetime.date, got str"),
        ({"interpret": "false"}, "interpret must be True or False, got str 'false'"),
        ({"interpret": 0}, "interpret must be True or False, got int"),
        ({"interpret": None}, "interpret must be True or False, got NoneType"),
    ],
)
def test_an_argument_of_the_wrong_type_is_invalid(
    service: QAService, options: dict[str, Any], mentions: str
) -> None:
    with pytest.raises(InvalidRequestError, match=mentions):
        service.ask("metro", **options)


@pytest.mark.parametrize("question", [None, 123, b"metro"])
def test_a_question_that_is_not_a_string_is_invalid(service: QAService, question: object) -> None:
    with pytest.raises(InvalidRequestError, match="question must be a string"):
        service.ask(question)  # type: ignore[arg-type]
    with pytest.raises(InvalidRequestError, match="must be a string"):
        service.related(question)  # type: ignore[arg-type]


def test_datetimes_are_read_as_their_days(service: QAService) -> None:
    days = service.ask(
        "metro", since=dt.date(2023, 1, 1), until=dt.date(2024, 12, 31), as_of=dt.date(2024, 6, 1)
    )
    times = service.ask(
        "metro",
        since=dt.datetime(2023, 1, 1, 9),
        until=dt.datetime(2024, 12, 31, 23, 59),
        as_of=dt.datetime(2024, 6, 1, 12),
    )
    assert times.as_of == dt.date(2024, 6, 1) and type(times.as_of) is dt.date
    assert [(h.article_id, h.position) for h in times.hits] == [(h.article_id, h.position) for h in days.hits]


def test_one_string_of_ids_is_refused_not_deleted_letter_by_letter(service: QAService) -> None:
    service.add([Article(i, f"Story {i}", f"The story {i} about the harbour.") for i in ("a", "b", "ab")])

    with pytest.raises(InvalidRequestError, match="ids must be a list of strings, got the string 'ab'"):
        service.delete("ab")
    assert all(service.article(i) for i in ("a", "b", "ab"))  # nothing deleted
    with pytest.raises(InvalidRequestError, match="questions must be a list of strings"):
        service.ask_batch("metro")
    assert service.delete(["ab"]).deleted == ["ab"]


def test_one_article_outside_a_list_is_refused(service: QAService) -> None:
    with pytest.raises(InvalidRequestError, match="an iterable of Article, got one Article"):
        service.add(Article("solo", "Solo", "One article."))  # type: ignore[arg-type]


def test_time_words_set_aside_by_explicit_dates_are_said_not_used(service: QAService) -> None:
    answer = service.ask("metro news in 2023", since=dt.date(2024, 1, 1), as_of=dt.date(2024, 6, 1))
    read = answer.interpreted

    assert (
        read is not None
        and read.set_aside
        and (read.since, read.until) == (dt.date(2023, 1, 1), dt.date(2023, 12, 31))
    )
    assert read.description.startswith("not reading 'in 2023' as dates")
    assert all(h.date is None or h.date >= dt.date(2024, 1, 1) for h in answer.hits)  # the since decides


def test_a_numpy_bool_is_a_flag(service: QAService) -> None:
    assert service.ask("metro news in 2023", interpret=np.False_).interpreted is None  # type: ignore[arg-type]
