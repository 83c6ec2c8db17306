"""Tests for benchmarks/gold_age.py: the age buckets and the count of unlabelled fresh answers."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from benchmarks.gold_age import bucket, buckets, gold_age, unlabelled

DAYS = {
    "fresh": dt.date(2024, 5, 1),
    "old": dt.date(2023, 1, 1),
    "later": dt.date(2024, 6, 1),
    "undated": None,
}


@pytest.mark.parametrize(
    ("gold_ids", "asked", "age", "label"),
    [
        (["fresh"], "2024-05-10", 9, "fresh"),
        (["fresh", "old"], "2024-05-10", 9, "fresh"),  # the newest gold article decides
        (["fresh"], "2024-06-20", 50, "recent"),
        (["old"], "2024-05-10", 495, "old"),
        (["later"], "2024-05-10", -1, "later"),
        (["old", "later"], "2024-05-10", 495, "old"),  # a later one does not count
        (["undated"], "2024-05-10", None, "undated"),
        (["fresh"], None, None, "undated"),
        (["elsewhere"], "2024-05-10", -2, "absent"),
    ],
)
def test_a_question_is_bucketed_by_its_newest_gold_article_before_it(
    gold_ids: list[str], asked: str | None, age: int | None, label: str
) -> None:
    found = gold_age({"gold_ids": gold_ids, "date": asked}, DAYS)
    assert found == age
    assert bucket(found) == label


def _split(root: Path) -> Path:
    data = root / "split"
    data.mkdir()
    corpus = [
        {"id": "g-old", "title": "t", "text": "Old page naming Utah.", "date": "2020-01-01"},
        {"id": "news", "title": "t", "text": "Utah first.", "date": "2024-01-03"},
        {"id": "stale", "title": "t", "text": "Utah again.", "date": "2023-06-01"},
        {"id": "g-new", "title": "t", "text": "Alabama ruling.", "date": "2024-03-05"},
    ]
    queries = [
        {
            "id": "q1",
            "question": "Which state first?",
            "date": "2024-01-05",
            "answers": ["Utah"],
            "gold_ids": ["g-old"],
        },
        {
            "id": "q2",
            "question": "Which state ruled?",
            "date": "2024-03-07",
            "answers": ["Alabama"],
            "gold_ids": ["g-new"],
        },
    ]
    (data / "corpus.jsonl").write_text("".join(json.dumps(a) + "\n" for a in corpus))
    (data / "queries.jsonl").write_text("".join(json.dumps(q) + "\n" for q in queries))
    return data


def test_an_unlabelled_fresh_answer_counts_only_beside_gold_in_its_own_column(tmp_path: Path) -> None:
    data = _split(tmp_path)
    assert list(buckets(data)) == ["old", "fresh"]
    hits = {
        # q1: a stale answer-holder first (too old to be that week's news), the week's article
        # holding the answer second, the gold page sixth
        "q1": ["stale:Utah again.", "news:Utah first.", "x:a", "x:b", "x:c", "g-old:naming Utah"],
        # q2: the gold article first
        "q2": ["g-new:Alabama ruling."],
    }
    run = tmp_path / "run.jsonl"
    run.write_text(
        "".join(
            json.dumps(
                {"id": q, "hits": [dict(zip(("article_id", "text"), h.split(":"), strict=True)) for h in hs]}
            )
            + "\n"
            for q, hs in hits.items()
        )
    )
    found = unlabelled(data, {"run": run})
    old, fresh = found["old"]["run"], found["fresh"]["run"]
    assert [old[f"gold@{k}"] for k in (1, 5, 10)] == [0, 0, 1]
    assert [old[f"gold or fresh answer@{k}"] for k in (1, 5, 10)] == [0, 1, 1]
    assert [fresh[f"gold@{k}"] for k in (1, 5, 10)] == [1, 1, 1]
    assert [fresh[f"gold or fresh answer@{k}"] for k in (1, 5, 10)] == [1, 1, 1]
    assert list(found) == ["fresh", "old"]  # in BUCKETS order
