"""Tests for qa.retrieval.related (its modes) and the related-articles measurement of qa.evaluation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qa.evaluation import evaluate, related_truth, score_related
from qa.retrieval.config import RetrievalConfig
from qa.retrieval.related import RELATED_MODES
from qa.retrieval.related_features import RELATED_FEATURES, related_pool
from qa.service import QAService
from tests.support.articles import make_articles
from tests.support.fakes import FakeEncoder
from tests.support.services import build_service


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> QAService:
    qa = build_service(tmp_path_factory.mktemp("index"), FakeEncoder())
    qa.add(make_articles())
    return qa


def related_ids(service: QAService, article_id: str, k: int = 10, **config: object) -> list[str]:
    service.retrieval = RetrievalConfig(**config)  # type: ignore[arg-type]
    try:
        return [r.article_id for r in service.related(article_id, k)]
    finally:
        service.retrieval = RetrievalConfig()


@pytest.mark.parametrize("mode", RELATED_MODES)
def test_every_mode_never_lists_the_article_and_the_references_find_its_copy_first(
    service: QAService, mode: str
) -> None:
    found = related_ids(service, "pipeline-a", related=mode)
    spread = related_ids(service, "pipeline-a", related=mode, collapse_duplicates=False)

    assert "pipeline-a" not in found and len(found) == len(set(found))
    assert spread[0] == "pipeline-b"  # the same story, word for word, is the closest of all
    assert found[0] == ("pipeline-b" if mode in ("dense", "lexical") else spread[1])


@pytest.mark.parametrize("mode", ["hybrid", "learned"])
def test_an_articles_own_copies_are_its_copies_not_related_articles(service: QAService, mode: str) -> None:
    found = related_ids(service, "pipeline-a", related=mode)
    copies = service.copies("pipeline-a")

    assert "pipeline-b" not in found
    assert [(c.article_id, c.source) for c in copies] == [
        ("pipeline-b", service.article("pipeline-b").source)
    ]
    assert service.copies("metro-opening") == []


@pytest.mark.parametrize("mode", ["hybrid", "learned"])
def test_syndicated_copies_are_shown_once_and_listed_with_the_one_shown(
    service: QAService, mode: str
) -> None:
    # From a third article, the two copies share a passage: one is shown, the other is its copy.
    spread = related_ids(service, "metro-opening", related=mode, collapse_duplicates=False)
    service.retrieval = RetrievalConfig(related=mode)
    try:
        collapsed = service.related("metro-opening", 10)
    finally:
        service.retrieval = RetrievalConfig()
    shown = [r.article_id for r in collapsed]
    pair = {"pipeline-a", "pipeline-b"}

    assert pair <= set(spread)
    assert len(pair & set(shown)) == 1
    assert set(shown) < set(spread)
    (carrier,) = (r for r in collapsed if r.article_id in pair)
    assert [c.article_id for c in carrier.copies] == list(pair - {carrier.article_id})
    assert carrier.to_dict()["copies"][0]["source"] == carrier.copies[0].source
    assert all(not r.copies for r in collapsed if r is not carrier)


def test_references_list_no_copies(service: QAService) -> None:
    for mode in ("dense", "lexical"):
        service.retrieval = RetrievalConfig(related=mode)
        try:
            assert all(not r.copies for r in service.related("metro-opening", 10))
        finally:
            service.retrieval = RetrievalConfig()


def test_related_truth_pairs_the_articles_of_questions_with_several_gold_ids() -> None:
    queries = [
        {"gold_ids": ["a", "b", "c"]},
        {"gold_ids": ["c", "d"]},
        {"gold_ids": ["e"]},
    ]

    assert related_truth(queries) == {"a": {"b", "c"}, "b": {"a", "c"}, "c": {"a", "b", "d"}, "d": {"c"}}


def test_score_related_averages_hit_and_recall_over_indexed_articles(service: QAService) -> None:
    queries = [{"gold_ids": ["pipeline-a", "pipeline-b", "not-indexed"]}]

    scores = score_related(service, queries, k=1)

    # pipeline-a and pipeline-b each list the other as its own copy (1 of 2 others), not among
    # the article shown; the third is not indexed
    assert scores == {"Hit@1": 1.0, "Recall@1": 0.5, "Hit@1.shown": 0.0, "Recall@1.shown": 0.0, "articles": 2}


def test_score_related_counts_listed_copies_as_returned_and_says_what_shown_alone_gives(
    service: QAService,
) -> None:
    queries = [{"gold_ids": ["metro-opening", "pipeline-a", "pipeline-b"]}]

    scores = score_related(service, queries, k=10)

    # from metro-opening, one pipeline copy is shown and carries the other with it
    assert scores["Recall@10.shown"] < scores["Recall@10"] == 1.0


def test_evaluate_with_related_adds_the_related_metrics(tmp_path: Path) -> None:
    data = tmp_path / "bench"
    data.mkdir()
    with (data / "corpus.jsonl").open("w") as f:
        for a in make_articles():
            record = {"id": a.id, "title": a.title, "text": a.text, "date": a.date and a.date.isoformat()}
            f.write(json.dumps(record | {"source": a.source, "url": a.url}) + "\n")
    question = {"id": "q1", "question": "crude oil pipeline exports", "answers": ["rose"]}
    (data / "queries.jsonl").write_text(
        json.dumps(question | {"gold_ids": ["pipeline-a", "pipeline-b"]}) + "\n"
    )
    service = build_service(tmp_path / "index", FakeEncoder())

    metrics = evaluate(service, data, related=True)

    assert metrics["related.articles"] == 2
    assert metrics["related.Hit@10"] == metrics["related.Recall@10"] == 1.0
    assert metrics["queries"] == 1 and "Hits@1" in metrics


@pytest.mark.parametrize("mode", RELATED_MODES)
def test_a_tiny_archive_gives_what_it_holds_without_warnings(tmp_path: Path, mode: str) -> None:
    # One other article (a pool of one: no neighbours to average), then none at all.
    qa = build_service(tmp_path / "index", FakeEncoder())
    qa.retrieval = RetrievalConfig(related=mode)
    articles = {a.id: a for a in make_articles()}
    qa.add([articles["metro-opening"], articles["football-win"]])

    found = [r.article_id for r in qa.related("metro-opening", 5)]
    assert found == ["football-win"] or (mode == "lexical" and not found)  # no word in common
    qa.delete(["football-win"])
    assert qa.related("metro-opening", 5) == []


def test_title_coverage_weighs_the_title_words_each_candidate_article_holds(service: QAService) -> None:
    reader = service.reader()
    article = reader.article("metro-opening")
    assert article is not None
    pool = related_pool(reader, article, reader.article_passages("metro-opening"), 50)
    column = RELATED_FEATURES.index("title_coverage")
    coverage = {row.article_id: float(pool.x[i, column]) for i, row in enumerate(pool.rows)}

    # "Baku metro opens a new station": the history note holds Baku, metro and station, not the rest
    assert 0.0 < coverage["archive-note"] < 1.0
    assert coverage["football-win"] == 0.0 == coverage["cotton-harvest"]


@pytest.mark.parametrize(
    "config", [{"related": "dense"}, {"related": "lexical"}, {"collapse_duplicates": False}]
)
def test_modes_that_list_copies_as_related_articles_list_no_copies_apart(
    service: QAService, config: dict[str, object]
) -> None:
    """Else the page would show the same article as "the same story" and as a related article."""
    service.retrieval = RetrievalConfig(**config)  # type: ignore[arg-type]
    try:
        assert service.copies("pipeline-a") == []
        assert service.related("pipeline-a", 3)[0].article_id == "pipeline-b"
    finally:
        service.retrieval = RetrievalConfig()
