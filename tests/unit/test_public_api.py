"""Tests for what `qa` offers a script: every error it raises and every class it returns, by name."""

from __future__ import annotations

import dataclasses
import inspect
import typing

import pytest

import qa
from embeddings import errors
from qa.service import QAService

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


def _classes(hint: object) -> set[type]:
    """The project's classes named in a type hint, however nested (`list[Hit]`, `X | None`)."""
    found = set()
    if isinstance(hint, type) and hint.__module__.split(".")[0] in {"qa", "embeddings"}:
        found.add(hint)
    for arg in typing.get_args(hint):
        found |= _classes(arg)
    return found


def _returned() -> set[type]:
    """The classes a script gets back from the README's methods, and those their fields hold."""
    methods = ["ask", "search", "ask_batch", "related", "copies", "related_with_copies", "add", "delete"]
    todo = set().union(*(_classes(typing.get_type_hints(getattr(QAService, m))["return"]) for m in methods))
    seen: set[type] = set()
    while todo:
        cls = todo.pop()
        seen.add(cls)
        if dataclasses.is_dataclass(cls):
            todo |= set().union(*map(_classes, typing.get_type_hints(cls).values())) - seen
    return seen


@pytest.mark.parametrize("cls", sorted(_returned(), key=lambda c: c.__name__), ids=lambda c: c.__name__)
def test_every_class_the_python_api_returns_is_importable_from_qa(cls: type) -> None:
    assert getattr(qa, cls.__name__, None) is cls
