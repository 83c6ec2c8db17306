"""Tests for the benchmark statistics (tests/support/stats.py): per-query scores, paired bootstrap."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from tests.support.stats import paired_bootstrap, per_query_scores, score

SCORER = Path(__file__).resolve().parents[3] / "shared" / "benchmarks" / "score.py"

QUERIES = [
    {"id": "q1", "question": "Who won?", "answers": ["Alice"], "gold_ids": ["a1"]},
    {"id": "q2", "question": "Where?", "answers": ["Baku"], "gold_ids": ["a2", "a3"]},
    {"id": "q3", "question": "When?", "answers": ["May"], "gold_ids": ["a4"]},
]
RESULTS = [
    {"id": "q1", "hits": [{"article_id": "a9", "text": "x"}, {"article_id": "a1", "text": "Alice won"}]},
    {"id": "q2", "hits": [{"article_id": "a3", "text": "in Baku", "highlight": "in Baku"}]},
    # q3 has no results line: it scores zero everywhere
]


@pytest.fixture
def queries_path(tmp_path: Path) -> Path:
    if not SCORER.is_file():
        pytest.skip(f"the shared scorer is not beside the repository ({SCORER})")
    shutil.copy(SCORER, tmp_path / "score.py")
    data = tmp_path / "data"
    data.mkdir()
    path = data / "queries.jsonl"
    path.write_text("".join(json.dumps(q) + "\n" for q in QUERIES))
    return path


def test_per_query_scores_are_the_scorers_figures_query_by_query(queries_path: Path) -> None:
    per_query = per_query_scores(queries_path, RESULTS)

    np.testing.assert_array_equal(per_query["Hits@1"], [0.0, 1.0, 0.0])
    np.testing.assert_array_equal(per_query["Hits@5"], [1.0, 1.0, 0.0])
    np.testing.assert_array_equal(per_query["MRR@10"], [0.5, 1.0, 0.0])
    np.testing.assert_array_equal(per_query["AnsRec@5"], [1.0, 1.0, 0.0])
    aggregate = score(queries_path, RESULTS)
    for metric, column in per_query.items():
        assert column.mean() == pytest.approx(aggregate[metric], abs=1e-4), metric


def test_bootstrap_of_identical_systems_is_zero() -> None:
    scores = np.array([1.0, 0.0, 1.0, 1.0, 0.0])

    low, high, means = paired_bootstrap(scores, scores.copy(), rounds=200)

    assert (low, high) == (0.0, 0.0)
    assert means.shape == (200,)


def test_bootstrap_pairs_queries_so_a_constant_gain_has_no_spread() -> None:
    rng = np.random.default_rng(1)
    theirs = rng.random(50)

    low, high, _ = paired_bootstrap(theirs + 0.1, theirs, rounds=500)

    assert low == pytest.approx(0.1) and high == pytest.approx(0.1)


def test_bootstrap_interval_brackets_the_mean_and_narrows_with_more_queries() -> None:
    rng = np.random.default_rng(2)
    few = (rng.random(40) < 0.6).astype(float), (rng.random(40) < 0.5).astype(float)
    many = (rng.random(4000) < 0.6).astype(float), (rng.random(4000) < 0.5).astype(float)

    low, high, _ = paired_bootstrap(*few, rounds=2000)
    wide = high - low
    assert low <= float(np.mean(few[0] - few[1])) <= high
    low, high, _ = paired_bootstrap(*many, rounds=2000)
    assert low <= float(np.mean(many[0] - many[1])) <= high
    assert high - low < wide / 5


def test_bootstrap_refuses_unaligned_scores() -> None:
    with pytest.raises(ValueError, match="equal non-empty"):
        paired_bootstrap(np.ones(3), np.ones(4))
    with pytest.raises(ValueError, match="equal non-empty"):
        paired_bootstrap(np.ones(0), np.ones(0))
