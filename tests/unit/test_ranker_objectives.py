"""Tests for benchmarks.ranker_objectives: the study's baseline is the shipped loss, and its
article-level loss reduces to it where every article has one passage."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from benchmarks.ranker_objectives import Candidates, fit, score, study
from qa.ranker_training import Examples
from qa.ranker_training import fit as shipped_fit

FEATURES = 4


def _candidates(
    tmp_path: Path, *, passages_per_article: int, questions: int = 30, seed: int = 0
) -> Candidates:
    """Each question (asked undated and dated) with 12 candidates; the gold article's passages
    score higher on feature 0, one of them holds the answer."""
    rng = np.random.default_rng(seed)
    rows: dict[str, list] = {k: [] for k in ("x", "answer", "gold", "article", "question", "dated")}
    for q in range(questions):
        for dated in (False, True):
            article = np.arange(12) // passages_per_article
            gold = article == rng.integers(0, article.max() + 1)
            x = rng.normal(size=(12, FEATURES))
            x[gold, 0] += 1.5
            answer = np.zeros(12, bool)
            answer[np.flatnonzero(gold)[0]] = True
            for key, value in (("x", x), ("answer", answer), ("gold", gold), ("article", article + 100 * q)):
                rows[key].append(value)
            rows["question"].append(np.full(12, q))
            rows["dated"].append(np.full(12, dated))
    path = tmp_path / "candidates.npz"
    np.savez(path, **{k: np.concatenate(v) for k, v in rows.items()})
    queries = [{"question": f"question number {q}"} for q in range(questions)]
    return Candidates(path, queries)


def test_the_studys_baseline_is_the_shipped_loss(tmp_path: Path) -> None:
    c = _candidates(tmp_path, passages_per_article=3)
    rows = np.arange(len(c.x))
    ours = fit(c, rows, c.answer, None)
    ranker = shipped_fit(Examples(c.x, c.answer, c.group), features=tuple(f"f{i}" for i in range(FEATURES)))
    np.testing.assert_allclose(c.x @ ours[:-1] + ours[-1], ranker.score(c.x), atol=1e-5)


def test_article_softmax_is_the_passage_softmax_when_articles_have_one_passage(tmp_path: Path) -> None:
    c = _candidates(tmp_path, passages_per_article=1)
    rows = np.arange(len(c.x))
    np.testing.assert_allclose(fit(c, rows, c.gold, 0.3), fit(c, rows, c.gold, None), atol=1e-5)


def test_articles_with_many_passages_change_the_article_loss(tmp_path: Path) -> None:
    c = _candidates(tmp_path, passages_per_article=3)
    rows = np.arange(len(c.x))
    assert not np.allclose(fit(c, rows, c.gold, 0.3), fit(c, rows, c.gold, None), atol=1e-3)


def test_score_shows_one_passage_per_article_and_finds_the_signal(tmp_path: Path) -> None:
    c = _candidates(tmp_path, passages_per_article=3)
    rows = np.arange(len(c.x))
    found = score(c, rows, fit(c, rows, c.answer, None))
    assert len(found["MRR@10"]) == 60 and set(found["dated"]) == {0.0, 1.0}
    assert found["Hits@10"].all()  # four articles a question: every one is shown
    assert found["MRR@10"].mean() > 0.6  # well above the 0.52 of a random order of four
    noise = np.r_[np.zeros(FEATURES), 0.0]
    assert score(c, rows, noise)["MRR@10"].mean() < found["MRR@10"].mean()


@pytest.mark.parametrize("taus", [[0.3]])
def test_study_reports_every_variant_against_the_shipped_loss(tmp_path: Path, taus: list[float]) -> None:
    report = study(_candidates(tmp_path, passages_per_article=3), taus)
    assert set(report) == {
        "shipped: answer-holding passages",
        "every gold passage",
        "gold articles, tau 0.3",
        "answer-holding articles, tau 0.3",
    }
    assert "MRR@10 diff" not in report["shipped: answer-holding passages"]["undated"]
    assert set(report["every gold passage"]["dated"]["MRR@10 diff"]) == {"diff", "ci95"}
