"""Tests for embeddings.lexical: BM25 with stemming and stopwords, filtering, persistence."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from embeddings.lexical import LexicalIndex

IDS = np.array([10, 11, 12, 13, 14], dtype=np.int64)
TEXTS = [
    "The elections were held in March across the country.",
    "A storm hit the coast and flooded the harbour.",
    "Pakistan won the cricket match in Lahore.",
    "Voters went to the polls for the election of a new parliament.",
    "Floods followed the storm along the coast.",
]


@pytest.fixture(scope="module")
def index() -> LexicalIndex:
    return LexicalIndex.build(IDS, TEXTS)


def test_stemming_matches_inflected_forms(index: LexicalIndex) -> None:
    for query in ("election", "elections"):
        scores, ids = index.search(query, k=5)
        assert sorted(ids.tolist()) == [10, 13]
        assert np.all(scores > 0)


def test_without_stemming_only_the_exact_form_matches() -> None:
    _, ids = LexicalIndex.build(IDS, TEXTS, stem=False).search("election", k=5)
    assert ids.tolist() == [13]


def test_results_are_best_first_within_k(index: LexicalIndex) -> None:
    scores, ids = index.search("storm harbour", k=1)
    assert ids.tolist() == [11]
    scores, ids = index.search("storm harbour", k=5)
    assert ids.tolist() == [11, 14] and np.all(np.diff(scores) < 0)
    assert scores.dtype == np.float32 and ids.dtype == np.int64


def test_allowed_restricts_results(index: LexicalIndex) -> None:
    _, ids = index.search("election", k=5, allowed=np.array([13, 12, 999]))
    assert ids.tolist() == [13]
    _, ids = index.search("election", k=5, allowed=np.array([], dtype=np.int64))
    assert ids.size == 0


@pytest.mark.parametrize("query", ["the and of", "", "zebra giraffe"])
def test_stopword_only_or_unknown_queries_find_nothing(index: LexicalIndex, query: str) -> None:
    scores, ids = index.search(query, k=5)
    assert scores.size == 0 and ids.size == 0


def test_empty_index_finds_nothing_and_roundtrips(tmp_path: Path) -> None:
    empty = LexicalIndex.build(np.empty(0, dtype=np.int64), [])
    assert len(empty) == 0
    assert empty.search("election", k=3)[1].size == 0
    empty.save(tmp_path)
    assert LexicalIndex.exists(tmp_path)
    loaded = LexicalIndex.load(tmp_path)
    assert len(loaded) == 0 and loaded.search("election", k=3)[1].size == 0


def test_save_then_load_gives_the_same_results(index: LexicalIndex, tmp_path: Path) -> None:
    assert not LexicalIndex.exists(tmp_path)
    index.save(tmp_path)
    assert LexicalIndex.exists(tmp_path)
    loaded = LexicalIndex.load(tmp_path)
    assert loaded.stem and np.array_equal(loaded.ids, IDS)
    for query in ("elections", "storm coast", "cricket Lahore"):
        for a, b in zip(index.search(query, k=3), loaded.search(query, k=3), strict=True):
            np.testing.assert_array_equal(a, b)


def test_unstemmed_setting_survives_save_and_load(tmp_path: Path) -> None:
    LexicalIndex.build(IDS, TEXTS, stem=False).save(tmp_path)
    loaded = LexicalIndex.load(tmp_path)
    assert not loaded.stem
    assert loaded.search("election", k=5)[1].tolist() == [13]


def test_idf_ranks_rare_words_above_common_ones_and_survives_save(tmp_path: Path) -> None:
    texts = ["the senate voted on the budget"] * 9 + ["the senate met Zelenskyy"]
    index = LexicalIndex.build(np.arange(10), texts)
    idf = index.idf(["senate", "budget", "zelenskyy", "unheard", "voting"])
    assert idf["zelenskyy"] > idf["budget"] > idf["senate"] > 0
    assert idf["unheard"] > idf["zelenskyy"]  # in no passage at all
    assert idf["voting"] == idf["budget"]  # stemmed like the index: "voting" and "voted" are "vote"
    index.save(tmp_path)
    assert LexicalIndex.load(tmp_path).idf(["budget"]) == {"budget": idf["budget"]}
    assert LexicalIndex.build(np.empty(0, np.int64), []).idf(["x"]) == {"x": 0.0}
