"""Checks of what a caller asks, in the core: the API maps their error to 422, the CLI to a message."""

from __future__ import annotations

import datetime as dt

from embeddings.errors import InvalidRequestError


def check_question(question: str, max_chars: int) -> str:
    """The question without surrounding whitespace; refused when empty or too long."""
    question = question.strip()
    if not question:
        raise InvalidRequestError("question must not be empty")
    if len(question) > max_chars:
        raise InvalidRequestError(f"question is longer than {max_chars} characters")
    return question


def check_k(k: int, max_k: int) -> int:
    if not 1 <= k <= max_k:
        raise InvalidRequestError(f"k must be between 1 and {max_k}, got {k}")
    return k


def check_dates(since: dt.date | None, until: dt.date | None) -> None:
    if since and until and since > until:
        raise InvalidRequestError(f"since ({since}) is after until ({until})")
