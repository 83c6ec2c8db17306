"""Tests for qa.retrieval.fusion: reciprocal-rank and linear fusion, and the registry of fusions."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from embeddings.backends import Candidates
from qa.retrieval import fusion
from qa.retrieval.config import RetrievalConfig
from qa.retrieval.fusion import FUSIONS, fuse, linear, rrf


def candidates(dense: dict[int, float], lexical: dict[int, float]) -> Candidates:
    """Candidates from `{id: score}` mappings, each in the (best-first) order written."""
    return Candidates(
        np.array(list(dense), np.int64),
        np.array(list(dense.values()), np.float32),
        np.array(list(lexical), np.int64),
        np.array(list(lexical.values()), np.float32),
    )


# Passage 30 is in both lists; 40 only in the lexical one.
BOTH = candidates({10: 0.75, 20: 0.5, 30: 0.25}, {30: 12.0, 40: 6.0})


# --- rrf ---------------------------------------------------------------------------------------


def test_rrf_weights_each_list_by_one_over_rrf_k_plus_rank() -> None:
    config = RetrievalConfig(rrf_k=10, dense_weight=2.0, lexical_weight=3.0)

    ids, scores = rrf(BOTH, config)

    assert ids.tolist() == [10, 20, 30, 40]  # first appearance, dense list first
    assert scores.tolist() == pytest.approx([2 / 11, 2 / 12, 2 / 13 + 3 / 11, 3 / 12])


def test_rrf_ignores_the_raw_scores_of_either_list() -> None:
    config = RetrievalConfig()
    rescored = candidates({10: 0.1, 20: 0.05, 30: 0.01}, {30: 900.0, 40: 1.0})

    assert rrf(rescored, config)[1].tolist() == rrf(BOTH, config)[1].tolist()


def test_rrf_of_a_lexical_list_alone_keeps_its_order() -> None:
    ids, scores = rrf(candidates({}, {7: 3.0, 5: 2.0}), RetrievalConfig(rrf_k=1, lexical_weight=1.0))

    assert ids.tolist() == [7, 5]
    assert scores.tolist() == pytest.approx([1 / 2, 1 / 3])


# --- linear ------------------------------------------------------------------------------------


def test_linear_scales_bm25_by_the_best_bm25_score() -> None:
    config = RetrievalConfig(fusion="linear", dense_weight=0.5, lexical_weight=2.0)

    ids, scores = linear(BOTH, config)

    assert ids.tolist() == [10, 20, 30, 40]
    assert scores.tolist() == pytest.approx([0.375, 0.25, 0.125 + 2.0, 1.0])


def test_linear_without_lexical_candidates_is_the_weighted_cosine() -> None:
    dense_only = candidates({3: 0.75, 1: 0.5}, {})

    ids, scores = linear(dense_only, RetrievalConfig(fusion="linear", dense_weight=2.0))

    assert ids.tolist() == [3, 1]
    assert scores.tolist() == pytest.approx([1.5, 1.0])


def test_linear_with_only_zero_bm25_scores_keeps_them_at_zero() -> None:
    zero = candidates({3: 0.75}, {1: 0.0, 3: 0.0})

    ids, scores = linear(zero, RetrievalConfig(fusion="linear", dense_weight=1.0, lexical_weight=1.0))

    assert ids.tolist() == [3, 1]
    assert scores.tolist() == pytest.approx([0.75, 0.0])


# --- both --------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["rrf", "linear"])
def test_empty_candidate_lists_fuse_to_empty_typed_arrays(name: str) -> None:
    ids, scores = FUSIONS[name](candidates({}, {}), RetrievalConfig(fusion=name))

    assert (ids.shape, ids.dtype, scores.shape, scores.dtype) == ((0,), np.int64, (0,), np.float64)


@pytest.mark.parametrize("name", ["rrf", "linear"])
def test_fuse_dispatches_on_the_configured_name(name: str) -> None:
    config = RetrievalConfig(fusion=name, rrf_k=5)

    ids, scores = fuse(BOTH, config)

    expected_ids, expected_scores = FUSIONS[name](BOTH, config)
    assert ids.tolist() == expected_ids.tolist() and scores.tolist() == expected_scores.tolist()
    assert (ids.dtype, scores.dtype) == (np.int64, np.float64)


# --- registry ----------------------------------------------------------------------------------


def test_the_registry_holds_exactly_rrf_and_linear() -> None:
    assert {"rrf": rrf, "linear": linear} == FUSIONS


def test_config_accepts_every_registered_fusion_and_nothing_else() -> None:
    for name in FUSIONS:
        assert RetrievalConfig(fusion=name).fusion == name
    with pytest.raises(ValidationError, match=r"unknown fusion 'max'; choices: linear, rrf"):
        RetrievalConfig(fusion="max")


def test_a_fusion_registered_by_name_becomes_configurable(monkeypatch: pytest.MonkeyPatch) -> None:
    def dense_only(c: Candidates, config: RetrievalConfig) -> tuple[np.ndarray, np.ndarray]:
        return c.dense_ids.astype(np.int64), c.dense_scores.astype(np.float64)

    monkeypatch.setitem(fusion.FUSIONS, "dense", dense_only)

    ids, scores = fuse(BOTH, RetrievalConfig(fusion="dense"))

    assert ids.tolist() == [10, 20, 30] and scores.tolist() == [0.75, 0.5, 0.25]
