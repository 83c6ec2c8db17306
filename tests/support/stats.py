"""Benchmark statistics: per-query scores with the benchmark's own score.py, and a paired bootstrap."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import numpy as np


def score(queries_path: Path, results: list[dict[str, Any]]) -> dict[str, Any]:
    """Score results with the benchmark's own `score.py` (found beside the data directory).

    Args:
        queries_path: `DATA_DIR/queries.jsonl`; `score.py` is read from `DATA_DIR/../score.py`.
        results: one `{"id", "hits": [{"article_id", "text"}, ...]}` per query, hits best first.

    Returns:
        score.py's metrics dict (Hits@k, MRR@10, AnsRec@k, queries, answered).
    """
    return _scorer(Path(queries_path)).score(read_jsonl(Path(queries_path)), results)


def per_query_scores(queries_path: Path, results: list[dict[str, Any]]) -> dict[str, np.ndarray]:
    """Each `score.py` metric for each query alone: metric -> `(n_queries,)` array, queries in file order.

    `score.py` scores every query separately, so the mean of a column is the aggregate it prints
    (up to its rounding to 4 decimals); a query with no results line scores 0, as there.
    """
    queries = read_jsonl(Path(queries_path))
    scorer = _scorer(Path(queries_path))
    by_id = {r["id"]: r for r in results}
    rows = [scorer.score([q], [by_id[q["id"]]] if q["id"] in by_id else []) for q in queries]
    metrics = [m for m, v in rows[0].items() if isinstance(v, float)] if rows else []
    return {m: np.array([row[m] for row in rows], dtype=np.float64) for m in metrics}


def paired_bootstrap(
    ours: np.ndarray, theirs: np.ndarray, *, rounds: int = 10_000, level: float = 0.95, seed: int = 0
) -> tuple[float, float, np.ndarray]:
    """Confidence interval of `mean(ours - theirs)` by resampling queries with replacement.

    Both arrays hold one score per query, aligned `(n_queries,)`; resampling pairs keeps each
    query's two scores together, so what both systems find hard cancels out.

    Returns:
        `(low, high, means)`: the central `level` interval and all `rounds` resampled means.
    """
    if ours.shape != theirs.shape or ours.ndim != 1 or len(ours) == 0:
        raise ValueError(f"need two equal non-empty 1-d arrays, got {ours.shape} and {theirs.shape}")
    diff = ours - theirs
    picks = np.random.default_rng(seed).integers(0, len(diff), size=(rounds, len(diff)))
    means = diff[picks].mean(axis=1)
    low, high = np.quantile(means, [(1 - level) / 2, (1 + level) / 2])
    return float(low), float(high), means


def _scorer(queries_path: Path) -> Any:
    """The benchmark's `score.py` module, imported from beside the data directory."""
    script = queries_path.parent.parent / "score.py"
    spec = importlib.util.spec_from_file_location("benchmark_score", script)
    if spec is None or spec.loader is None:
        raise FileNotFoundError(f"cannot import {script}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """One JSON object per non-blank line: a split's queries or corpus, or a results file."""
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]
