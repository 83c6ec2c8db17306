"""Tests for what `qa` offers a script: every error the Python API raises can be caught by name."""

from __future__ import annotations

import inspect

import pytest

import qa
from embeddings import errors

# NotADirectoryIndexError is caught as the IndexNotFoundError it is.
ERRORS = [
    c
    for _, c in inspect.getmembers(errors, inspect.isclass)
    if issubclass(c, errors.QAError) and c is not errors.NotADirectoryIndexError
]


@pytest.mark.parametrize("error", ERRORS, ids=lambda c: c.__name__)
def test_every_error_of_the_library_is_importable_from_qa(error: type[errors.QAError]) -> None:
    assert getattr(qa, error.__name__) is error
    assert error.__name__ in qa.__all__
