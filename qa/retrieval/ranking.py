"""Ranking of fused candidates: the question's time window, recency, and article evidence."""

from __future__ import annotations

import datetime as dt

import numpy as np

from embeddings.backends import UNDATED
from qa.retrieval.config import RetrievalConfig

Window = tuple[dt.date | None, dt.date | None]


def inside(days: np.ndarray, window: Window) -> np.ndarray:
    """Which candidates (by their article's day ordinal) fall inside the window (undated: none)."""
    since, until = window
    mask = days != UNDATED
    if since is not None:
        mask &= days >= since.toordinal()
    if until is not None:
        mask &= days <= until.toordinal()
    return mask


def date_factors(
    days: np.ndarray, window: Window | None, as_of: dt.date, config: RetrievalConfig
) -> np.ndarray:
    """Per candidate: ×(1 + time_boost) inside the question's window, ×(1 + w·2^(−age/half-life))."""
    factor = np.ones(len(days))
    if window is not None and config.time_boost:
        factor[inside(days, window)] *= 1.0 + config.time_boost
    if config.recency_weight and config.recency_half_life_days > 0:
        dated = days != UNDATED
        age = np.maximum(0, as_of.toordinal() - days[dated])
        factor[dated] *= 1.0 + config.recency_weight * np.power(0.5, age / config.recency_half_life_days)
    return factor


def with_article_evidence(articles: np.ndarray, scores: np.ndarray, weight: float) -> np.ndarray:
    """Credit every passage of an article with its article's next-best candidate passages.

    An article that matches the question in several places is more likely about it than one
    with a single lucky passage.
    """
    numbers = articles.tolist()
    by_article: dict[int, list[float]] = {}
    for article, score in zip(numbers, scores.tolist(), strict=True):
        by_article.setdefault(article, []).append(score)
    bonus = {a: sum(sorted(v, reverse=True)[1:3]) for a, v in by_article.items()}
    return scores + weight * np.array([bonus[a] for a in numbers])
