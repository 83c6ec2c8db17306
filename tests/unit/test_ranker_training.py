"""Tests for qa.ranker_training: collecting labelled candidates and fitting on a tiny set."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pytest

from qa.highlighter_training import train_highlighter
from qa.ranker_training import (
    Examples,
    TrainingError,
    _group_softmax,
    collect,
    collect_related,
    fit,
    read_queries,
    train_ranker,
    train_related_ranker,
)
from qa.retrieval.config import RetrievalConfig
from qa.retrieval.features import FEATURES
from qa.retrieval.learned import RankerError, read_ranker
from qa.retrieval.related_features import RELATED_FEATURES
from qa.service import QAService
from tests.support.articles import make_articles
from tests.support.fakes import FakeEncoder
from tests.support.services import build_service

QUERIES = [
    {
        "question": "Which station did the Baku metro open?",
        "answers": ["green line"],
        "gold_ids": ["metro-opening"],
        "date": "2023-11-05",
    },
    {
        "question": "Who led the Pakistani military delegation?",
        "answers": ["army chief"],
        "gold_ids": ["defense-visit"],
        "date": "2023-11-05",
    },
    {
        "question": "How did crude oil exports through the pipeline change?",
        "answers": ["rose"],
        "gold_ids": ["pipeline-a", "pipeline-b"],
        "date": "2023-11-10",
    },
    {"question": "Where was the earthquake felt?", "answers": [], "gold_ids": ["quake-report"]},
]


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> QAService:
    qa = build_service(tmp_path_factory.mktemp("index"), FakeEncoder())
    qa.add(make_articles())
    return qa


def synthetic(seed: int = 0) -> Examples:
    """20 questions × 8 candidates; feature 0 marks the positive, the others are noise."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(160, len(FEATURES)))
    labels = np.zeros(160, bool)
    labels[::8] = True
    x[labels, 0] += 2.0
    return Examples(x, labels, np.repeat(np.arange(20), 8))


def test_collect_labels_the_gold_articles_candidates_that_hold_an_answer(service: QAService) -> None:
    examples = collect(service, QUERIES)
    reader = service.reader()
    gold = set(reader.article_passages("metro-opening").tolist())
    ids, _, _ = service.ranking_features(QUERIES[0]["question"])
    rows = reader.passages(ids.tolist())
    expected = [i in gold and "green line" in rows[i].text.lower() for i in ids.tolist()]

    # three dated questions give two groups each, the undated one only its undated group
    assert len(np.unique(examples.groups)) == 7
    assert examples.x.shape == (len(examples.labels), len(FEATURES))
    assert 0 < sum(expected) < len(gold)  # the article has passages without the answer
    assert examples.labels[examples.groups == 0].tolist() == expected


def test_collect_labels_every_gold_candidate_when_none_holds_an_answer(service: QAService) -> None:
    question = dict(QUERIES[0], answers=["no such words"])
    examples = collect(service, [question], settings=("undated",))
    ids, _, _ = service.ranking_features(question["question"])
    gold = set(service.reader().article_passages("metro-opening").tolist())

    assert examples.labels.tolist() == [i in gold for i in ids.tolist()]


def test_fit_gives_the_separating_feature_the_largest_weight_and_is_deterministic() -> None:
    first, second = fit(synthetic()), fit(synthetic())

    assert np.argmax(first.weights) == 0 and first.weights[0] > 0
    np.testing.assert_array_equal(first.weights, second.weights)
    assert first.about["groups"] == 20 and first.about["converged"]


def test_fit_records_the_range_of_each_feature_it_was_fitted_on() -> None:
    examples = synthetic()
    # a question without a positive is not fitted on, so its values do not widen the range
    x = np.vstack([examples.x, np.full((8, len(FEATURES)), 50.0)])
    labels = np.r_[examples.labels, np.zeros(8, bool)]
    ranker = fit(Examples(x, labels, np.r_[examples.groups, np.full(8, 20)]))

    np.testing.assert_array_equal(ranker.low, examples.x.min(axis=0))
    np.testing.assert_array_equal(ranker.high, examples.x.max(axis=0))


def test_fit_refuses_examples_without_a_question_holding_both_kinds() -> None:
    examples = synthetic()
    with pytest.raises(ValueError, match="no question has a gold candidate"):
        fit(Examples(examples.x, np.zeros_like(examples.labels), examples.groups))


def test_group_softmax_normalises_each_group_and_gives_its_logsumexp() -> None:
    s = np.array([0.0, np.log(3.0), 5.0])
    p, lse = _group_softmax(s, np.array([0, 2]))

    np.testing.assert_allclose(p, [0.25, 0.75, 1.0])
    np.testing.assert_allclose(lse, [np.log(4.0), 5.0])


def test_train_ranker_writes_a_ranker_the_service_uses(service: QAService, tmp_path: Path) -> None:
    data = tmp_path / "queries.jsonl"
    data.write_text("".join(json.dumps(q) + "\n" for q in QUERIES))
    out, cache = tmp_path / "ranker.json", tmp_path / "examples.npz"

    ranker = train_ranker(service, data, out, cache=cache)
    again = train_ranker(service, data, tmp_path / "again.json", cache=cache)

    assert read_ranker(out).weights.tolist() == ranker.weights.tolist() == again.weights.tolist()
    assert ranker.about["questions"] == 4
    # the model whose vectors the examples were drawn with, kept with the cached examples too
    assert ranker.about["encoder"] == again.about["encoder"] == "fake@0:test"
    with np.load(cache) as saved:
        arrays = {key: saved[key] for key in ("x", "labels", "groups")}
    np.savez(cache, **arrays)  # as an earlier release cached them: without the encoder
    assert "encoder" not in train_ranker(service, data, tmp_path / "unknown.json", cache=cache).about
    service.retrieval = RetrievalConfig(ranking="learned", ranker_path=out)
    try:
        hits = service.ask(QUERIES[0]["question"], k=3, as_of=dt.date(2023, 11, 5)).hits
    finally:
        service.retrieval = RetrievalConfig()
    assert hits and len({h.article_id for h in hits}) == len(hits)


def test_an_examples_cache_of_other_questions_or_another_command_is_refused(
    service: QAService, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    data, fewer = tmp_path / "queries.jsonl", tmp_path / "fewer.jsonl"
    data.write_text("".join(json.dumps(q) + "\n" for q in QUERIES))
    fewer.write_text("".join(json.dumps(q) + "\n" for q in QUERIES[:2]))
    cache = tmp_path / "examples.npz"
    train_ranker(service, data, tmp_path / "ranker.json", cache=cache)

    with pytest.raises(TrainingError, match=r"examples.npz holds examples collected otherwise \('questions"):
        train_ranker(service, fewer, tmp_path / "fewer.json", cache=cache)  # other questions
    with pytest.raises(TrainingError, match="'qa train-ranker' there, 'qa train-ranker --related' now"):
        train_related_ranker(service, data, tmp_path / "related.json", cache=cache)  # another command
    with pytest.raises(TrainingError, match="'qa train-ranker' there, 'qa train-highlighter' now"):
        train_highlighter(service, data, tmp_path / "highlighter.json", cache=cache)
    service.retrieval = RetrievalConfig(candidates=10)  # other candidates: other examples
    try:
        with pytest.raises(TrainingError, match=r"\('retrieval settings sha256:\w+' there"):
            train_ranker(service, data, tmp_path / "ten.json", cache=cache)
    finally:
        service.retrieval = RetrievalConfig()
    assert not any((tmp_path / name).exists() for name in ("fewer.json", "related.json", "ten.json"))
    with pytest.raises(TrainingError, match=r"missing\.jsonl"):
        train_ranker(service, tmp_path / "missing.jsonl", tmp_path / "missing.json", cache=cache)

    with np.load(cache) as saved:
        arrays = {key: saved[key] for key in ("x", "labels", "groups")}
    np.savez(cache, **arrays)  # as an earlier release cached them: taken as they are, with a warning
    with caplog.at_level("WARNING"):
        assert train_ranker(service, fewer, tmp_path / "fewer.json", cache=cache).about["questions"] == 2
    assert "cached by an earlier release" in caplog.text


def test_collect_related_labels_the_other_gold_articles_of_each_article(service: QAService) -> None:
    examples = collect_related(service.reader(), QUERIES)

    # one question has two gold articles: a group for each, the other one its only positive
    assert sorted(np.unique(examples.groups).tolist()) == [0, 1]
    assert examples.x.shape == (len(examples.labels), len(RELATED_FEATURES))
    assert [int(examples.labels[examples.groups == g].sum()) for g in (0, 1)] == [1, 1]


def test_train_related_ranker_writes_a_ranker_the_service_uses(service: QAService, tmp_path: Path) -> None:
    data = tmp_path / "queries.jsonl"
    data.write_text("".join(json.dumps(q) + "\n" for q in QUERIES))
    out, cache = tmp_path / "related.json", tmp_path / "related.npz"

    ranker = train_related_ranker(service, data, out, cache=cache)
    again = train_related_ranker(service, data, tmp_path / "again.json", cache=cache)

    assert read_ranker(out, RELATED_FEATURES).weights.tolist() == ranker.weights.tolist()
    assert ranker.weights.tolist() == again.weights.tolist()
    assert ranker.about["articles"] == 2 and ranker.features == RELATED_FEATURES
    assert ranker.about["encoder"] == again.about["encoder"] == "fake@0:test"
    train_ranker(service, data, tmp_path / "passages.json", cache=tmp_path / "examples.npz")
    with pytest.raises(RankerError, match="--related"):
        read_ranker(tmp_path / "passages.json", RELATED_FEATURES)  # a passage ranker is refused
    # the fitted ranker serves: the copy it learned to put first, with copies not folded apart
    service.retrieval = RetrievalConfig(related="learned", related_ranker_path=out, collapse_duplicates=False)
    try:
        found = [r.article_id for r in service.related("pipeline-a", 3)]
    finally:
        service.retrieval = RetrievalConfig()
    assert found[0] == "pipeline-b" and "pipeline-a" not in found


def test_a_question_file_without_questions_says_so(tmp_path: Path) -> None:
    (tmp_path / "queries.jsonl").write_text("\n  \n")
    with pytest.raises(TrainingError, match="no questions in"):
        read_queries(tmp_path / "queries.jsonl")
