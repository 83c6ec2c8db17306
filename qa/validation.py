"""Checks on what a caller asks of the service: every edge (HTTP, CLI, scripts) gets the same answer."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from numbers import Integral

import numpy as np

from embeddings.articles import is_text
from embeddings.errors import InvalidRequestError


def check_text(value: str, what: str) -> str:
    """`value` itself when it is a string UTF-8 can carry (no lone surrogate); raises otherwise."""
    if not isinstance(value, str):
        raise InvalidRequestError(f"{what} must be a string, got {type(value).__name__}")
    if not is_text(value):
        raise InvalidRequestError(f"{what} holds a lone surrogate, which is not text")
    return value


def check_question(question: str, max_chars: int) -> str:
    """The question without surrounding whitespace; raises if that is empty or over `max_chars`."""
    question = check_text(question, "question").strip()
    if not question:
        raise InvalidRequestError("question must not be empty")
    if len(question) > max_chars:
        raise InvalidRequestError(f"question is longer than {max_chars} characters")
    return question


def check_k(k: int, max_k: int) -> int:
    """`k` itself when it is a whole number within 1..`max_k`; raises otherwise (`True` and `2.5`
    too: a script's slip, not a number of passages)."""
    if isinstance(k, bool) or not isinstance(k, Integral):
        raise InvalidRequestError(f"k must be a whole number, got {type(k).__name__} {k!r}")
    if not 1 <= k <= max_k:
        raise InvalidRequestError(f"k must be between 1 and {max_k}, got {k}")
    return int(k)


def check_flag(value: bool, what: str) -> bool:
    """`value` when it is a bool (numpy's too); anything else raises: a string such as "false"
    would be read as true."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise InvalidRequestError(f"{what} must be True or False, got {type(value).__name__} {value!r}")


def check_date(value: dt.date | None, what: str) -> dt.date | None:
    """`value` as a day: a `datetime` is its date; anything but a date or None raises."""
    if value is None or type(value) is dt.date:
        return value
    if isinstance(value, dt.datetime):
        return value.date()
    raise InvalidRequestError(f"{what} must be a datetime.date, got {type(value).__name__} {value!r}")


def check_dates(since: dt.date | None, until: dt.date | None) -> tuple[dt.date | None, dt.date | None]:
    """`(since, until)` as days (`check_date`); raises when `since` is after `until`."""
    since, until = check_date(since, "since"), check_date(until, "until")
    if since and until and since > until:
        raise InvalidRequestError(f"since ({since}) is after until ({until})")
    return since, until


def check_many(values: Iterable[str] | None, what: str) -> list[str]:
    """`values` as a list of strings (`check_text`); one string on its own raises, since iterating
    it would ask for each of its characters."""
    if values is None:
        return []
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        got = f"the string {values!r}" if isinstance(values, str) else type(values).__name__
        raise InvalidRequestError(f"{what} must be a list of strings, got {got}")
    return [check_text(value, f"{what}[{n}]") for n, value in enumerate(values)]
