"""Tests for qa.retrieval.learned: the ranker file, the shipped ranker and the learned stage."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from qa.retrieval.config import RetrievalConfig
from qa.retrieval.features import FEATURES
from qa.retrieval.highlighter import load_highlighter
from qa.retrieval.learned import (
    SHIPPED,
    LinearRanker,
    RankerError,
    fits_encoder,
    fitted_encoder,
    load_ranker,
    load_related_ranker,
    read_ranker,
)
from qa.service import QAService, warn_unfitted
from tests.support.articles import make_articles
from tests.support.fakes import FakeEncoder
from tests.support.services import build_service

F = len(FEATURES)
LATER = dt.date(2025, 1, 1)
QUESTIONS = ["Which station did the Baku metro open?", "crude oil pipeline exports", "football derby"]


def rrf_ranker() -> LinearRanker:
    """A learned ranker that is exactly reciprocal-rank fusion with weights 1 and 1.5."""
    weights = np.zeros(F)
    weights[FEATURES.index("dense_rr")], weights[FEATURES.index("lexical_rr")] = 1.0, 1.5
    return LinearRanker(FEATURES, np.zeros(F), np.ones(F), weights)


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> QAService:
    qa = build_service(tmp_path_factory.mktemp("index"), FakeEncoder())
    qa.add(make_articles())
    return qa


def test_a_saved_ranker_reads_back_with_the_same_scores(tmp_path: Path) -> None:
    ranker = LinearRanker(FEATURES, np.arange(F) / 3, np.full(F, 2.0), np.linspace(-1, 1, F), {"seed": 0})
    ranker.save(tmp_path / "r.json")
    x = np.random.default_rng(0).normal(size=(5, F))

    again = read_ranker(tmp_path / "r.json")
    np.testing.assert_array_equal(again.score(x), ranker.score(x))
    assert again.about == {"seed": 0}


def bounded(low: float, high: float) -> LinearRanker:
    w = np.linspace(-1, 2, F)
    return LinearRanker(FEATURES, np.zeros(F), np.ones(F), w, low=np.full(F, low), high=np.full(F, high))


def test_a_feature_beyond_the_fitted_range_scores_as_its_bound(tmp_path: Path) -> None:
    ranker = bounded(-1.0, 2.0)
    x = np.random.default_rng(0).normal(size=(6, F))
    x[0, :] = 40.0  # a passage far deeper in a page than any the ranker was fitted on
    x[1, :] = -40.0
    scores = ranker.score(x)

    assert scores[0] == pytest.approx(ranker.score(np.full((1, F), 2.0))[0])
    assert scores[1] == pytest.approx(ranker.score(np.full((1, F), -1.0))[0])
    inside = np.clip(x[2:], -1.0, 2.0)
    np.testing.assert_allclose(scores[2:], ranker.score(inside), rtol=0, atol=1e-12)
    unbounded = LinearRanker(FEATURES, np.zeros(F), np.ones(F), ranker.weights)
    np.testing.assert_allclose(unbounded.score(inside), scores[2:], rtol=0, atol=1e-12)
    assert unbounded.score(x[:1])[0] != pytest.approx(scores[0])  # without bounds: extrapolated

    ranker.save(tmp_path / "r.json")
    again = read_ranker(tmp_path / "r.json")
    np.testing.assert_array_equal(again.score(x), scores)
    np.testing.assert_array_equal(again.low, ranker.low)


@pytest.mark.parametrize("broken", ["only a low bound", "a bound too short", "low above high"])
def test_a_ranker_file_with_broken_bounds_is_refused(tmp_path: Path, broken: str) -> None:
    good = json.loads(bounded(-1.0, 2.0).to_json())
    data = {
        "only a low bound": {k: v for k, v in good.items() if k != "high"},
        "a bound too short": good | {"high": good["high"][:-1]},
        "low above high": good | {"low": good["high"], "high": good["low"]},
    }[broken]
    (tmp_path / "r.json").write_text(json.dumps(data))

    with pytest.raises(RankerError, match="refit it"):
        read_ranker(tmp_path / "r.json")


def test_a_ranker_fitted_on_other_features_is_refused(tmp_path: Path) -> None:
    data = json.loads(rrf_ranker().to_json())
    data["features"][0] = "something else"
    (tmp_path / "old.json").write_text(json.dumps(data))

    with pytest.raises(RankerError, match="refit it"):
        read_ranker(tmp_path / "old.json")
    with pytest.raises(RankerError, match="cannot read"):
        read_ranker(tmp_path / "missing.json")


def test_the_shipped_ranker_loads_and_weighs_every_feature() -> None:
    ranker = load_ranker()

    assert SHIPPED.stat().st_size < 10_000
    assert ranker.features == FEATURES
    assert np.isfinite(ranker.weights).all() and np.count_nonzero(ranker.weights) == F
    assert ranker.about["data"] == "realtimeqa-train"


@pytest.mark.parametrize("load", [load_ranker, load_related_ranker, load_highlighter])
def test_every_shipped_file_records_the_range_it_was_fitted_on(load: Callable[[], LinearRanker]) -> None:
    model = load()

    assert model.low is not None and model.high is not None
    assert model.low.shape == model.high.shape == (len(model.features),)
    assert bool(np.all(model.low <= model.high))


def test_a_learned_ranker_that_is_rrf_answers_like_the_weights_without_time(
    service: QAService, tmp_path: Path
) -> None:
    rrf_ranker().save(tmp_path / "rrf.json")
    learned = RetrievalConfig(ranking="learned", ranker_path=tmp_path / "rrf.json")
    weights = RetrievalConfig(ranking="weights", recency_weight=0.0, time_boost=0.0)
    try:
        for question in QUESTIONS:
            service.retrieval = learned
            ours = service.ask(question, k=5, as_of=LATER).hits
            service.retrieval = weights
            theirs = service.ask(question, k=5, as_of=LATER).hits
            assert [h.passage_id for h in ours] == [h.passage_id for h in theirs]
            # the rr features are 60 / (61 + rank): RRF's terms times rrf_k
            assert [h.score for h in ours] == pytest.approx([60 * h.score for h in theirs])
    finally:
        service.retrieval = RetrievalConfig()


def test_the_learned_ranking_is_deterministic(service: QAService) -> None:
    service.retrieval = RetrievalConfig(ranking="learned")
    try:
        first = [service.ask(q, k=5).to_dict() for q in QUESTIONS]
        second = [service.ask(q, k=5).to_dict() for q in QUESTIONS]
    finally:
        service.retrieval = RetrievalConfig()
    assert first == second


def test_an_unknown_ranking_is_refused_with_the_choices() -> None:
    with pytest.raises(ValueError, match="unknown ranking 'magic'; choices: learned, weights"):
        RetrievalConfig(ranking="magic")


def test_a_service_with_a_missing_ranker_file_fails_when_built(tmp_path: Path) -> None:
    config = RetrievalConfig(ranking="learned", ranker_path=tmp_path / "missing.json")

    with pytest.raises(RankerError, match="cannot read ranker"):
        build_service(tmp_path / "index", FakeEncoder(), retrieval=config)


# --- which model a learned file was fitted on ----------------------------------------------------


def test_a_learned_file_fits_the_model_it_records_whatever_the_runtime() -> None:
    about = {"data": "realtimeqa-train", "encoder": "minilm@ab12:onnx-int8"}

    assert fitted_encoder(about) == "minilm@ab12"
    assert fits_encoder(about, "minilm@ab12:torch")
    assert fits_encoder(about, "my-copy@ab12:onnx-int8")  # the same weights in a folder of another name
    assert not fits_encoder(about, "minilm@ff00:torch")  # the same name, other weights
    assert not fits_encoder(about, "fake@0:test")
    assert fitted_encoder({"data": "x"}) is None and fits_encoder({"data": "x"}, "fake@0:test")
    colons = {"encoder": "news:v1@aa:torch"}  # a folder name may hold colons
    assert fitted_encoder(colons) == "news:v1@aa" and not fits_encoder(colons, "news:v2@bb:torch")


def _ranker_fitted_on(tmp_path: Path, encoder: str | None) -> Path:
    data = json.loads(SHIPPED.read_text(encoding="utf-8"))
    data["about"] = {"data": "my-questions"} | ({"encoder": encoder} if encoder else {})
    path = tmp_path / f"ranker-{encoder}.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("encoder", "fits"),
    [("fake@0", True), ("fake@0:other", True), ("minilm@ab12:torch", False), (None, True)],
)
def test_stats_say_whether_the_ranker_was_fitted_on_this_model(
    tmp_path: Path,
    fake_encoder: FakeEncoder,
    encoder: str | None,
    fits: bool,
    caplog: pytest.LogCaptureFixture,
) -> None:
    config = RetrievalConfig(ranker_path=_ranker_fitted_on(tmp_path, encoder), related="hybrid", match=False)
    qa = build_service(tmp_path / "index", fake_encoder, retrieval=config)
    qa.add(make_articles()[:2])

    ranker = next(f for f in qa.stats()["learned"] if f["name"] == "ranker")
    warn_unfitted(qa.learned, fake_encoder.identity)

    assert ranker == {
        "name": "ranker",
        "packaged": False,
        "data": "my-questions",
        "encoder": encoder.split(":")[0] if encoder else None,
        "fits": fits,
    }
    warned = [r.getMessage() for r in caplog.records if r.name == "qa.service"]
    assert len(warned) == (0 if fits else 1)
    if not fits:
        assert warned[0].startswith(f"{config.ranker_path}: ranker was fitted on minilm@ab12's vectors,")
        assert "this service embeds with fake@0" in warned[0] and "(`qa train-ranker`)" in warned[0]


def test_stats_list_every_learned_file_the_configuration_uses(
    tmp_path: Path, fake_encoder: FakeEncoder
) -> None:
    everything = build_service(tmp_path / "a", fake_encoder)
    hand_set = build_service(
        tmp_path / "b",
        fake_encoder,
        retrieval=RetrievalConfig(ranking="weights", highlighter="lexical", match=False, related="hybrid"),
    )

    assert [f.name for f in everything.learned] == ["ranker", "highlighter", "match", "related ranker"]
    assert all(f.path is None for f in everything.learned)
    assert hand_set.learned == []


@pytest.mark.parametrize("broken", ["a NaN weight", "an infinite mean", "a zero scale"])
def test_a_ranker_file_with_numbers_that_score_nothing_is_refused(tmp_path: Path, broken: str) -> None:
    good = json.loads(rrf_ranker().to_json())
    key, value = {
        "a NaN weight": ("weights", "NaN"),
        "an infinite mean": ("mean", "Infinity"),
        "a zero scale": ("scale", 0),
    }[broken]
    good[key][0] = float(value) if isinstance(value, str) else value
    (tmp_path / "r.json").write_text(json.dumps(good))  # json writes NaN and Infinity as Python reads them

    with pytest.raises(RankerError, match="not finite or a scale not positive"):
        read_ranker(tmp_path / "r.json")


def test_a_ranker_file_missing_a_key_names_it(tmp_path: Path) -> None:
    data = json.loads(rrf_ranker().to_json())
    del data["features"]
    (tmp_path / "r.json").write_text(json.dumps(data))
    with pytest.raises(RankerError, match="no 'features' in it"):
        read_ranker(tmp_path / "r.json")
