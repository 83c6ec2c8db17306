"""Tests for qa.retrieval.rerankers: the registry, the default, and a custom reranker in a service."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from embeddings.backends import Columns
from qa.retrieval import rerankers
from qa.retrieval.config import RetrievalConfig
from qa.retrieval.rerankers import RERANKERS, Reranker, RerankInput, keep_order, load_reranker
from qa.service import QAService
from tests.support.articles import make_articles
from tests.support.fakes import FakeEncoder
from tests.support.services import build_service

LATER = dt.date(2025, 1, 1)
QUESTION = "Which station did the Baku metro open?"
# The custom reranker's order: three articles the question is not about, then everything else.
PREFERRED = {"cotton-harvest": 3.0, "football-win": 2.0, "quake-report": 1.0}


def by_preference(candidates: RerankInput) -> np.ndarray:
    """Scores from the article of each candidate (read through the reranker's reader)."""
    rows = candidates.reader.passages(candidates.ids.tolist())
    return np.array([PREFERRED.get(rows[pid].article_id, 0.0) for pid in candidates.ids.tolist()])


def service_with(tmp_path: Path, reranker: str) -> QAService:
    service = build_service(tmp_path / "index", FakeEncoder(), retrieval=RetrievalConfig(reranker=reranker))
    service.add(make_articles())
    return service


def test_the_registry_holds_only_none_which_keeps_the_order() -> None:
    assert list(RERANKERS) == ["none"]
    assert load_reranker("none") is keep_order


def test_keep_order_returns_the_rankings_own_scores() -> None:
    scores = np.array([0.9, 0.4, 0.1])
    columns = Columns(np.zeros(3, np.int64), np.arange(3), np.arange(3), np.zeros(3, np.int64))
    candidates = RerankInput("q", np.zeros(4, np.float32), np.array([7, 3, 5]), scores, columns, None)  # type: ignore[arg-type]

    assert keep_order(candidates) is scores


def test_an_unknown_reranker_is_rejected_with_the_choices() -> None:
    with pytest.raises(ValidationError, match=r"unknown reranker 'cross-encoder'; choices: none"):
        RetrievalConfig(reranker="cross-encoder")


def test_a_registered_reranker_orders_the_answers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[Reranker] = []

    def factory() -> Reranker:
        built.append(by_preference)
        return by_preference

    monkeypatch.setitem(rerankers.RERANKERS, "preference", factory)
    baseline = service_with(tmp_path / "baseline", "none").ask(QUESTION, k=3, as_of=LATER)

    service = service_with(tmp_path / "reranked", "preference")
    answer = service.ask(QUESTION, k=3, as_of=LATER)
    service.ask("football derby", k=3, as_of=LATER)

    assert baseline.hits[0].article_id == "metro-opening"
    assert [h.article_id for h in answer.hits] == ["cotton-harvest", "football-win", "quake-report"]
    assert [h.score for h in answer.hits] == [3.0, 2.0, 1.0]  # the reranker's scores
    assert len(built) == 1  # the factory runs once, when the service is built


def test_the_reranker_sees_the_ranked_candidates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[RerankInput] = []

    def spy(candidates: RerankInput) -> np.ndarray:
        seen.append(candidates)
        return candidates.scores

    monkeypatch.setitem(rerankers.RERANKERS, "spy", lambda: spy)
    service = service_with(tmp_path, "spy")

    answer = service.ask("What happened in November 2023?", k=2, as_of=LATER)

    [candidates] = seen
    assert candidates.question == "What happened ?"  # the matched text, its time words stripped
    assert np.array_equal(candidates.vector, FakeEncoder().encode_queries(["What happened ?"])[0])
    assert len(candidates.ids) == len(candidates.scores) == len(candidates.columns.days)
    assert answer.hits[0].score == max(candidates.scores.tolist())
