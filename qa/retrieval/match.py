"""How well a hit matches its question: whether the archive seems to hold what was asked.

A search always returns its k closest passages, so a question the archive knows nothing of
("a recipe for banana bread", asked of a news archive) gets k hits that look like any other. Each
hit's `match` is the probability, from a logistic model over what the passage shares with the
question (`MATCH_FEATURES`: the cosine of their vectors, and the share of the question's words
the passage holds, singly and in order), that it is the kind of passage an archive holding the
story answers with, rather than the best an archive without the story has. The model is fitted
on the train split (`qa train-match`, `qa.match_training`): each question asked of the archive
as of its date (positives: a first hit from a gold article) and as of 60 days earlier, before the
story (negatives: a first hit holding no answer). A hit whose match is below `weak_below` is a weak
match: the fit sets it where `WEAK_QUANTILE` (1 %) of the train positives fall, so a passage
called weak scores below 99 % of the first hits that answered a train question.

The inputs depend on the question and the passage alone, not on dates or on the ranking that
chose the passage, so every ranking mode gets them alike.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from embeddings.backends import IndexReader
from qa.retrieval.learned import RankerError, numbers_sound, unreadable

SHIPPED = Path(__file__).with_name("match.json")
MATCH_FEATURES: tuple[str, ...] = ("dense", "coverage", "bigrams")
WEAK_QUANTILE = 0.01  # the share of train first hits from a gold article that a weak match may take


@dataclass(frozen=True)
class MatchModel:
    """p = 1 / (1 + exp(−(Σ weight · (feature − mean) / scale + bias))), over `MATCH_FEATURES`;
    a p below `weak_below` is a weak match."""

    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    bias: float
    weak_below: float
    about: dict[str, Any] = field(default_factory=dict)

    def probability(self, x: np.ndarray) -> np.ndarray:
        """`(n,)` probabilities of an `(n, len(MATCH_FEATURES))` matrix (`inputs`)."""
        logit = ((x - self.mean) / self.scale) @ self.weights + self.bias
        return 1.0 / (1.0 + np.exp(-np.clip(logit, -50.0, 50.0)))

    def to_json(self) -> str:
        return json.dumps(
            {
                "kind": "logistic",
                "features": list(MATCH_FEATURES),
                "mean": [float(v) for v in self.mean],
                "scale": [float(v) for v in self.scale],
                "weights": [float(v) for v in self.weights],
                "bias": float(self.bias),
                "weak_below": float(self.weak_below),
                "about": self.about,
            },
            indent=1,
        )

    def save(self, path: Path) -> None:
        Path(path).write_text(self.to_json() + "\n", encoding="utf-8")


def read_match(path: Path) -> MatchModel:
    """A match model from its JSON file.

    Raises:
        RankerError: unreadable file, or one fitted on other inputs than `MATCH_FEATURES`.
    """
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        names = tuple(data["features"])
        arrays = [np.asarray(data[key], dtype=np.float64) for key in ("mean", "scale", "weights")]
        bias, weak_below = float(data["bias"]), float(data["weak_below"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise unreadable("match model", path, exc) from exc
    if (
        data.get("kind") != "logistic"
        or names != MATCH_FEATURES
        or any(a.shape != (len(names),) for a in arrays)
    ):
        raise RankerError(
            f"match model {path} does not fit this release's inputs; refit it (`qa train-match`)"
        )
    if not numbers_sound([*arrays, np.asarray(bias)], scale=arrays[1]):
        raise RankerError(f"match model {path}: a value is not finite or a scale is not positive")
    if not 0.0 <= weak_below <= 1.0:
        raise RankerError(f"match model {path}: weak_below {weak_below} is not a probability")
    return MatchModel(*arrays, bias=bias, weak_below=weak_below, about=dict(data.get("about") or {}))


@lru_cache(maxsize=8)
def load_match(path: Path | None = None) -> MatchModel:
    """The match model at `path`, or the one shipped with the package; read once per path."""
    return read_match(path or SHIPPED)


def inputs(reader: IndexReader, vector: np.ndarray, words: str | None, ids: np.ndarray) -> np.ndarray:
    """`(len(ids), len(MATCH_FEATURES))`: each passage's cosine with the question's unit `vector`
    (its stored vector; 0 for an id without one) and its overlap with `words`, the question
    without its time words ("in 2023" chose the dates; a passage need not say it; zeros without
    a lexical index)."""
    ids = np.asarray(ids, dtype=np.int64)
    out = np.zeros((len(ids), len(MATCH_FEATURES)))
    if not len(ids):
        return out
    vectors = reader.vectors(ids)
    if len(vectors) == len(ids):
        out[:, 0] = vectors @ np.asarray(vector, dtype=np.float32)
    else:  # an id without its vector (never in a checked index): each found one by id
        for row, pid in enumerate(ids.tolist()):
            found = reader.vectors(np.array([pid], dtype=np.int64))
            out[row, 0] = float(found[0] @ vector) if len(found) else 0.0
    if words is not None:
        out[:, 1:] = reader.overlap(ids, words)
    return out
