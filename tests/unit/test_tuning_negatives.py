"""Tests for embeddings.tuning: counting a fine-tune's false negatives."""

from __future__ import annotations

import pytest

from embeddings.tuning import hard_negatives, in_batch


def _q(question: str, gold: list[str], answer: str) -> dict:
    return {"question": question, "gold_ids": gold, "answers": [answer]}


def test_in_batch_counts_batches_where_two_questions_share_an_answer_article_or_text() -> None:
    distinct = [_q(f"question number {i}", [f"g{i}"], f"answer{i}") for i in range(40)]
    assert in_batch(distinct, batch=8, trials=50, seed=0)["batches_with_any"] == 0.0

    shared = [_q(f"question number {i}", [f"g{i}"], "Europe") for i in range(40)]
    out = in_batch(shared, batch=8, trials=50, seed=0)
    assert out["batches_with_same_answer"] == 1.0
    assert out["batches_with_same_gold_article"] == 0.0


def test_a_hard_negative_holding_the_answer_is_a_false_negative() -> None:
    texts = [
        "The charger rule of the European Union: phone makers must use USB-C.",  # gold
        "Phone makers and the charger rule: Europe decided on USB-C for every phone.",  # not gold
        "A recipe for bread with flour, water and salt.",
        "Football results from the weekend league games.",
    ]
    owners = ["gold", "other", "bread", "sport"]
    titles = {"gold": "EU charger", "other": "Charger news", "bread": "Bread", "sport": "Sport"}
    question = _q("Which continent will require phone makers to use one charger rule?", ["gold"], "Europe")

    out = hard_negatives([question], texts, owners, titles, depth=2)

    assert out["questions"] == 1
    assert out["top1_holds_answer"] == 1.0
    assert out["top1_copy_of_gold"] == 0.0
    assert out["top2_holds_answer"] == pytest.approx(0.5)
