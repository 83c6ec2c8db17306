"""Tests for qa.retrieval.highlighter: the highlighter file and the shipped highlighter."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from qa.retrieval.highlighter import SHIPPED, load_highlighter, read_highlighter
from qa.retrieval.learned import LinearRanker, RankerError
from qa.retrieval.sentence_features import FEATURES

F = len(FEATURES)


def test_the_shipped_highlighter_fits_this_releases_features_and_says_how_it_was_fitted() -> None:
    model = load_highlighter(None)
    assert model is load_highlighter(None)  # read once per path
    assert model.features == FEATURES and np.isfinite(model.weights).all()
    assert model.about["data"] == "realtimeqa-train" and model.about["converged"]


def test_a_saved_highlighter_reads_back_with_the_same_scores(tmp_path: Path) -> None:
    model = LinearRanker(FEATURES, np.arange(F) / 3, np.full(F, 2.0), np.linspace(-1, 1, F), {"seed": 0})
    model.save(tmp_path / "h.json")
    again = read_highlighter(tmp_path / "h.json")
    x = np.random.default_rng(0).normal(size=(5, F))
    np.testing.assert_array_equal(again.score(x), model.score(x))
    assert again.about == {"seed": 0}


def test_a_file_fitted_on_other_features_asks_for_a_refit(tmp_path: Path) -> None:
    data = json.loads(SHIPPED.read_text(encoding="utf-8"))
    data["features"] = [*data["features"][:-1], "something_else"]
    (tmp_path / "old.json").write_text(json.dumps(data))
    with pytest.raises(RankerError, match="qa train-highlighter"):
        read_highlighter(tmp_path / "old.json")
    with pytest.raises(RankerError, match="cannot read highlighter"):
        read_highlighter(tmp_path / "missing.json")
