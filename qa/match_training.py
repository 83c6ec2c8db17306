"""Fitting the match model (`qa.retrieval.match`): first hits of an archive that holds the story
against first hits of one that does not yet.

Each dated question is asked twice in each setting, as `ask` answers it: of the archive as it
stood on the question's date, and as it stood `GAP_DAYS` earlier, before the story (dated: as of
that day; undated: with `until` that day). The first hit of the first ask is a positive when it
comes from a gold article (or names one among its copies); the first hit of the second is a
negative unless its text holds an answer (a story older than the gap). The model is a logistic
regression over standardised `MATCH_FEATURES`, the two kinds weighted to even odds (so
0.5 means "as likely one kind as the other"), L2-regularised and minimised by L-BFGS:
deterministic, no sampling. The weak threshold is the `WEAK_QUANTILE` quantile of the positives'
probabilities.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import minimize

from qa.hits import Hit
from qa.ranker_training import (
    TrainingError,
    cache_notes,
    cached,
    drawn_from,
    drawn_with,
    read_cache_notes,
    read_queries,
)
from qa.retrieval.match import MATCH_FEATURES, WEAK_QUANTILE, MatchModel
from qa.service import QAService

GAP_DAYS = 60  # how long before its question the archive is taken to lack the story


@dataclass(frozen=True, slots=True)
class MatchExamples:
    """`x` `(n, len(MATCH_FEATURES))`, `labels` `(n,)` bool (True: the archive held the story);
    `encoder`: the identity of the encoder whose vectors gave the cosines (None: not recorded)."""

    x: np.ndarray
    labels: np.ndarray
    encoder: str | None = None
    drawn_from: str | None = None  # the command, questions and settings they were collected by

    def save(self, path: Path) -> None:
        np.savez_compressed(path, x=self.x, labels=self.labels, **cache_notes(self))

    @classmethod
    def load(cls, path: Path) -> MatchExamples:
        """Examples `save` wrote.

        Raises:
            TrainingError: a file that is not such examples.
        """
        try:
            with np.load(path) as data:
                notes = read_cache_notes(data)
                x, labels = data["x"], data["labels"].astype(bool)
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:  # not an .npz archive
            raise TrainingError(f"{path}: not the examples of `qa train-match --examples` ({exc})") from exc
        if x.shape != (len(labels), len(MATCH_FEATURES)):
            raise TrainingError(
                f"{path}: examples of shape {x.shape} and {len(labels)} labels,"
                f" not (n, {len(MATCH_FEATURES)}) and n"
            )
        return cls(x, labels, *notes)


def collect_match(
    qa: QAService, queries: Sequence[dict[str, Any]], *, gap_days: int = GAP_DAYS
) -> MatchExamples:
    """The labelled first hits of every dated question of `queries` in both settings (see the
    module's docstring). `qa` must answer without a match model of its own (`match` off), since
    the one being fitted may not exist yet."""
    dated = [q for q in queries if q.get("date")]
    qa.prepare([q["question"] for q in dated])
    rows: list[np.ndarray] = []
    labels: list[bool] = []
    for q in dated:
        day = dt.date.fromisoformat(str(q["date"])[:10])
        before = day - dt.timedelta(days=gap_days)
        gold = {str(g) for g in q["gold_ids"]}
        answers = [a.lower() for a in q.get("answers") or [] if a]
        for held, lacking in (({}, {"until": before}), ({"as_of": day}, {"as_of": before})):
            hit = _first(qa, q["question"], held)
            if hit is not None and (hit.article_id in gold or gold & set(hit.duplicates)):
                rows.append(qa.match_inputs(q["question"], [hit.passage_id])[0])
                labels.append(True)
            hit = _first(qa, q["question"], lacking)
            if hit is not None and not any(a in hit.text.lower() for a in answers):
                rows.append(qa.match_inputs(q["question"], [hit.passage_id])[0])
                labels.append(False)
    x = np.array(rows, dtype=np.float64).reshape(len(rows), len(MATCH_FEATURES))
    return MatchExamples(x, np.array(labels, dtype=bool), qa.encoder.identity)


def _first(qa: QAService, question: str, options: dict[str, Any]) -> Hit | None:
    hits = qa.ask(question, 1, **options).hits
    return hits[0] if hits else None


def fit_match(
    examples: MatchExamples, *, l2: float = 0.01, about: dict[str, Any] | None = None
) -> MatchModel:
    """A logistic regression of `labels` on `x`, each kind weighted to half the loss.

    Raises:
        TrainingError: the examples lack one of the two kinds.
    """
    x, y = examples.x, examples.labels.astype(np.float64)
    positives, negatives = int(y.sum()), int(len(y) - y.sum())
    if not positives or not negatives:
        raise TrainingError(
            f"need first hits of both kinds to fit on ({positives} held, {negatives} lacking):"
            " dated questions whose gold_ids name indexed articles, and articles older than them"
        )
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    z = (x - mean) / scale
    weight = np.where(y > 0, 0.5 / positives, 0.5 / negatives)

    def loss(params: np.ndarray) -> tuple[float, np.ndarray]:
        w, b = params[:-1], params[-1]
        logit = z @ w + b
        p = 1.0 / (1.0 + np.exp(-logit))
        value = float(weight @ (np.logaddexp(0.0, logit) - y * logit)) + 0.5 * l2 * float(w @ w)
        residual = weight * (p - y)
        return value, np.r_[z.T @ residual + l2 * w, residual.sum()]

    result = minimize(loss, np.zeros(z.shape[1] + 1), jac=True, method="L-BFGS-B", options={"maxiter": 500})
    info = {
        "objective": "logistic, each kind weighted to half",
        "l2": l2,
        "held": positives,
        "lacking": negatives,
        "loss": round(float(result.fun), 6),
        "converged": bool(result.success),
    }
    model = MatchModel(mean, scale, result.x[:-1], float(result.x[-1]), 0.0)
    held = model.probability(x[y > 0])
    weak_below = float(np.quantile(held, WEAK_QUANTILE))
    info |= {
        "weak_quantile": WEAK_QUANTILE,
        "lacking called weak": round(float((model.probability(x[y == 0]) < weak_below).mean()), 4),
    }
    return MatchModel(mean, scale, result.x[:-1], float(result.x[-1]), weak_below, about=(about or {}) | info)


def train_match(
    qa: QAService,
    queries_path: Path,
    out: Path,
    *,
    gap_days: int = GAP_DAYS,
    l2: float = 0.01,
    cache: Path | None = None,
) -> MatchModel:
    """Fit the match model on the questions of `queries_path` over `qa`'s index; write it to `out`.

    With `cache`, the collected first hits are kept there (and read back when present: a refit
    with another `l2` asks no question again).
    """
    queries = read_queries(queries_path)
    examples = cached(
        cache,
        MatchExamples.load,
        lambda: collect_match(qa, queries, gap_days=gap_days),
        drawn_from("train-match", queries_path, qa, gap_days=gap_days),
    )
    about = {
        "data": Path(queries_path).parent.name,
        "questions": len(queries),
        "gap_days": gap_days,
        **drawn_with(examples.encoder),  # the cosines are this model's (`learned.fits_encoder`)
    }
    model = fit_match(examples, l2=l2, about=about)
    model.save(out)
    return model
