"""Checks on what a caller asks of the service: every edge (HTTP, CLI, scripts) gets the same answer."""

from __future__ import annotations

import datetime as dt

from embeddings.articles import is_text
from embeddings.errors import InvalidRequestError


def check_text(value: str, what: str) -> str:
    """`value` itself when it is text UTF-8 can carry (no lone surrogate); raises otherwise."""
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
    """`k` itself when it is within 1..`max_k`; raises otherwise."""
    if not 1 <= k <= max_k:
        raise InvalidRequestError(f"k must be between 1 and {max_k}, got {k}")
    return k


def check_dates(since: dt.date | None, until: dt.date | None) -> None:
    """Raises when both bounds are given and `since` is after `until`."""
    if since and until and since > until:
        raise InvalidRequestError(f"since ({since}) is after until ({until})")
