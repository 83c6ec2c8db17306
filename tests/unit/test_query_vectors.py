"""Tests for qa.query_vectors: question vectors, each encoded alone, behind a bounded cache."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from qa.query_vectors import QUERY_CACHE, QueryVectors
from tests.support.fakes import FakeEncoder


class CountingEncoder(FakeEncoder):
    """The fake encoder, recording the texts of each `encode_queries` call."""

    def __init__(self) -> None:
        super().__init__()
        self.query_calls: list[list[str]] = []

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        self.query_calls.append(list(texts))
        return super().encode_queries(texts)


def expected(*questions: str) -> np.ndarray:
    """`(n, dim)` vectors of the questions, each encoded alone by a fresh encoder."""
    return np.stack([FakeEncoder().encode_queries([q])[0] for q in questions])


def test_a_vector_is_the_encoders_query_vector() -> None:
    vector = QueryVectors(CountingEncoder()).vector("metro station")

    assert vector.shape == (64,) and np.array_equal(vector, expected("metro station")[0])


def test_a_repeated_question_is_encoded_once() -> None:
    encoder = CountingEncoder()
    queries = QueryVectors(encoder)

    first, second = queries.vector("metro station"), queries.vector("metro station")

    assert encoder.query_calls == [["metro station"]]
    assert np.array_equal(first, second)


def test_each_question_is_encoded_alone_and_duplicates_once() -> None:
    encoder = CountingEncoder()

    vectors = QueryVectors(encoder).vectors(["metro", "cotton", "metro", "quake"])

    assert encoder.query_calls == [["metro"], ["cotton"], ["quake"]]
    assert np.array_equal(np.stack(vectors), expected("metro", "cotton", "metro", "quake"))


def test_questions_prepared_in_a_batch_are_not_encoded_again() -> None:
    encoder = CountingEncoder()
    queries = QueryVectors(encoder)
    queries.vectors(["metro", "cotton"])

    queries.vector("cotton")
    queries.vector("metro")

    assert encoder.query_calls == [["metro"], ["cotton"]]


def test_the_oldest_question_is_evicted_beyond_the_cache_size() -> None:
    encoder = CountingEncoder()
    queries = QueryVectors(encoder, size=2)
    for question in ("a", "b", "c"):
        queries.vector(question)

    queries.vector("b")
    queries.vector("c")
    assert encoder.query_calls == [["a"], ["b"], ["c"]]  # b and c still cached

    queries.vector("a")
    assert encoder.query_calls == [["a"], ["b"], ["c"], ["a"]]  # a was evicted


def test_a_batch_larger_than_the_cache_still_gets_every_vector() -> None:
    vectors = QueryVectors(CountingEncoder(), size=1).vectors(["a", "b", "c"])

    assert np.array_equal(np.stack(vectors), expected("a", "b", "c"))


def test_clear_forgets_every_vector() -> None:
    encoder = CountingEncoder()
    queries = QueryVectors(encoder)
    queries.vector("metro")

    queries.clear()
    queries.vector("metro")

    assert encoder.query_calls == [["metro"], ["metro"]]


def test_the_default_cache_holds_a_thousand_and_twenty_four_questions() -> None:
    assert QueryVectors(CountingEncoder()).size == QUERY_CACHE == 1024
