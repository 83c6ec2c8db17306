"""Tests for qa.highlighter_training: collecting labelled sentences and fitting on a tiny set."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from embeddings.text import split_sentences
from qa.highlighter_training import collect_sentences, train_highlighter
from qa.ranker_training import Examples, fit
from qa.retrieval.config import RetrievalConfig
from qa.retrieval.highlighter import read_highlighter
from qa.retrieval.sentence_features import FEATURES
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
    },
    {"question": "Where was the earthquake felt?", "answers": [], "gold_ids": ["quake-report"]},
]


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> QAService:
    qa = build_service(tmp_path_factory.mktemp("index"), FakeEncoder())
    qa.add(make_articles())
    return qa


def test_collect_labels_the_sentences_of_each_hit_that_hold_an_answer(service: QAService) -> None:
    examples = collect_sentences(service, QUERIES[:1], k=3, settings=("undated",))
    hits = service.ask(QUERIES[0]["question"], 3).hits
    expected = ["green line" in hit.text[a:b].lower() for hit in hits for a, b in split_sentences(hit.text)]

    assert examples.x.shape == (len(expected), len(FEATURES))
    assert examples.labels.tolist() == expected and any(expected)
    assert len(np.unique(examples.groups)) == len(hits)  # one group per hit
    assert service.retrieval == RetrievalConfig()  # the service's configuration is restored


def test_collect_asks_dated_questions_twice_and_skips_questions_without_answers(
    service: QAService,
) -> None:
    both = collect_sentences(service, QUERIES, k=2)
    undated = collect_sentences(service, QUERIES, k=2, settings=("undated",))

    # the first question is dated (two settings, two hits each), the second undated, the third
    # has no answer to label sentences with
    assert len(np.unique(both.groups)) == 6
    assert len(np.unique(undated.groups)) == 4


def test_fitting_sentence_features_is_deterministic_and_finds_the_separating_feature() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(120, len(FEATURES)))
    labels = np.zeros(120, bool)
    labels[::6] = True
    x[labels, FEATURES.index("answer_x_cue")] += 2.0
    examples = Examples(x, labels, np.repeat(np.arange(20), 6))

    first, second = fit(examples, features=FEATURES), fit(examples, features=FEATURES)

    assert first.features == FEATURES
    assert int(np.argmax(first.weights)) == FEATURES.index("answer_x_cue")
    np.testing.assert_array_equal(first.weights, second.weights)
    with pytest.raises(ValueError, match="columns"):
        fit(Examples(x[:, :-1], labels, examples.groups), features=FEATURES)


def test_train_highlighter_writes_a_highlighter_the_service_uses(service: QAService, tmp_path: Path) -> None:
    data = tmp_path / "queries.jsonl"
    data.write_text("".join(json.dumps(q) + "\n" for q in QUERIES))
    out, cache = tmp_path / "highlighter.json", tmp_path / "sentences.npz"

    model = train_highlighter(service, data, out, k=5, cache=cache)
    again = train_highlighter(service, data, tmp_path / "again.json", k=5, cache=cache)

    assert read_highlighter(out).weights.tolist() == model.weights.tolist() == again.weights.tolist()
    assert model.about["questions"] == 3 and model.about["hits_per_question"] == 5
    service.retrieval = RetrievalConfig(highlighter_path=out)
    try:
        hits = service.ask(QUERIES[0]["question"], k=3).hits
    finally:
        service.retrieval = RetrievalConfig()
    assert hits and all(h.text[h.highlight_start : h.highlight_end] == h.highlight for h in hits)
