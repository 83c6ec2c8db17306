"""Tests for embeddings.backends.local.lexical: BM25 with stemming and stopwords, filtering, persistence."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from embeddings.backends.local.lexical import LexicalIndex

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


def _scores(index: LexicalIndex, query: str) -> dict[int, float]:
    scores, ids = index.search(query, 100)
    return {int(i): round(float(s), 5) for s, i in zip(scores, ids, strict=True)}


def test_an_update_tokenizes_only_new_passages_and_scores_like_a_rebuild(tmp_path: Path) -> None:
    texts = {
        1: "Senate passes the budget bill",
        2: "The budget vote was close",
        3: "Storm hits the coast",
        4: "the of and",  # stopwords only: an empty document
    }
    first = LexicalIndex.build(np.array([1, 2, 3, 4]), list(texts.values()))
    first.save(tmp_path)
    texts |= {7: "A storm and a budget", 9: "Zelenskyy visits the Senate"}
    del texts[2]
    wanted = np.array(sorted(texts))
    asked: list[list[int]] = []

    def texts_of(ids: np.ndarray) -> list[str]:
        asked.append(ids.tolist())
        return [texts[int(i)] for i in ids]

    updated = LexicalIndex.load(tmp_path).updated(wanted, texts_of)
    assert asked == [[7, 9]]
    rebuilt = LexicalIndex.build(wanted, [texts[int(i)] for i in wanted])
    for query in ("budget", "storm coast", "senate Zelenskyy", "budget senate storm"):
        assert _scores(updated, query) == _scores(rebuilt, query)
    assert updated.idf(["budget", "zelenskyy"]) == rebuilt.idf(["budget", "zelenskyy"])
    (tmp_path / "again").mkdir()
    updated.save(tmp_path / "again")
    again = LexicalIndex.load(tmp_path / "again").updated(wanted, texts_of)
    assert asked == [[7, 9], []] and _scores(again, "storm") == _scores(rebuilt, "storm")


def test_an_index_saved_without_tokens_is_rebuilt_from_every_text(tmp_path: Path) -> None:
    LexicalIndex.build(np.array([1, 2]), ["budget vote", "storm coast"]).save(tmp_path)
    for name in ("tokens.npy", "offsets.npy"):
        (tmp_path / "lexical" / name).unlink()
    asked: list[list[int]] = []

    def texts_of(ids: np.ndarray) -> list[str]:
        asked.append(ids.tolist())
        return ["budget vote", "storm coast", "new budget"][: len(ids)]

    updated = LexicalIndex.load(tmp_path).updated(np.array([1, 2, 5]), texts_of)
    assert asked == [[1, 2, 5]] and set(_scores(updated, "budget")) == {1, 5}


def test_new_passages_between_held_ones_are_placed_in_id_order(tmp_path: Path) -> None:
    texts = {2: "budget vote in the senate", 5: "storm on the coast", 8: "cricket in Lahore"}
    LexicalIndex.build(np.array(sorted(texts)), list(texts.values())).save(tmp_path)
    texts |= {1: "senate storm", 6: "Lahore budget budget"}
    wanted = np.array([8, 1, 5, 6, 2])  # any order: each id keeps its own tokens

    def texts_of(ids: np.ndarray) -> list[str]:
        return [texts[int(i)] for i in ids]

    updated = LexicalIndex.load(tmp_path).updated(wanted, texts_of)
    rebuilt = LexicalIndex.build(wanted, texts_of(wanted))
    for query in ("budget", "storm senate", "Lahore cricket", "coast"):
        assert _scores(updated, query) == _scores(rebuilt, query)
    assert updated.ids.tolist() == wanted.tolist()
