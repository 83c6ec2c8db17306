"""Tests for embeddings.backends.overlap and the local lexical index's `overlap`."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from embeddings.backends.local.lexical import LexicalIndex
from embeddings.backends.overlap import flatten, query_codes, token_overlap
from tests.support.articles import make_articles
from tests.support.fakes import FakeEncoder
from tests.support.services import build_service

WEIGHTS = {1: 1.0, 2: 2.0, 3: 3.0}


def overlap(docs: list[list[int]], query: list[int], weights: dict[int, float] = WEIGHTS) -> np.ndarray:
    return token_overlap(*flatten(docs), query, weights)


def test_coverage_is_the_share_of_the_query_weight_and_bigrams_of_its_pairs_in_order() -> None:
    # pairs (1, 2) and (2, 3) weigh their lighter token: 1 and 2, of 3
    got = overlap([[1, 2, 9], [3, 9, 2], [2, 3, 1], [], [2, 1]], [1, 2, 3])
    expected = [[3 / 6, 1 / 3], [5 / 6, 0.0], [1.0, 2 / 3], [0.0, 0.0], [3 / 6, 0.0]]
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_a_pair_split_between_two_passages_is_held_by_neither() -> None:
    assert overlap([[9, 1], [2, 9]], [1, 2])[:, 1].tolist() == [0.0, 0.0]


def test_repeated_words_count_once_and_unknown_words_still_weigh() -> None:
    codes = query_codes(["oil", "zzz", "oil", "price", "zzz"], {"oil": 1, "price": 2}.get)
    assert codes == [1, -2, 1, 2, -2]
    got = overlap([[1, 2]], codes, {1: 1.0, 2: 2.0, -2: 5.0})
    assert got[0, 0] == pytest.approx(3 / 8)  # the unknown word's weight stays in the mass
    # pairs (1, -2), (-2, 1), (1, 2), (2, -2): only (1, 2) can be held
    assert got[0, 1] == pytest.approx(1 / (1 + 1 + 1 + 2))


def test_nothing_to_weigh_gives_zeros() -> None:
    assert overlap([[1, 2]], []).tolist() == [[0.0, 0.0]]
    assert overlap([], [1, 2]).shape == (0, 2)
    assert overlap([[1, 2]], [1], {1: 0.0}).tolist() == [[0.0, 0.0]]


TEXTS = [
    "Oil prices rose sharply after the pipeline closed.",
    "The pipeline reopened; prices of oil fell.",
    "A football derby ended in a draw.",
]


def test_the_lexical_index_reads_its_stored_tokens_as_a_tokenizer_would_cut_the_texts() -> None:
    ids = np.array([10, 20, 30], dtype=np.int64)
    index = LexicalIndex.build(ids, TEXTS)
    asked = np.array([20, 10, 99, 30], dtype=np.int64)
    stored = index.overlap(asked, "Why did oil prices rise?", lambda _: pytest.fail("texts read"))
    # the same index without stored tokens (saved by an older release) tokenizes the texts instead
    bare = LexicalIndex(index._retriever, ids, stem=True)
    texts = dict(zip(ids.tolist(), TEXTS, strict=True))
    cut = bare.overlap(asked, "Why did oil prices rise?", lambda wanted: [texts[i] for i in wanted.tolist()])
    assert stored.tolist() == cut.tolist()
    assert stored[2].tolist() == [0.0, 0.0] and stored[3].tolist() == [0.0, 0.0]  # unknown id; no word
    assert stored[1, 0] == stored[0, 0] > 0  # both hold "oil" and "prices"
    assert stored[1, 1] > 0 == stored[0, 1]  # only the first holds "oil prices" in order


def test_an_index_saved_without_tokens_reads_its_passages_as_they_were_indexed_titles_included(
    tmp_path: Path, fake_encoder: FakeEncoder
) -> None:
    service = build_service(tmp_path, fake_encoder)  # title context on, as by default
    service.add(make_articles())
    reader = service.reader()
    ids = reader.article_passages("quake-report")
    question = "earthquake shakes villages"  # "shakes" is in the title alone
    stored = reader.overlap(ids, question)
    assert stored[:, 0].tolist() == [1.0] * len(ids)

    reader.lexical._tokens, reader.lexical._directory = None, None  # as an older release saved it
    assert reader.overlap(ids, question).tolist() == stored.tolist()
