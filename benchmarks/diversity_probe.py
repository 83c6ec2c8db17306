"""Story diversity in the shown articles: would pushing down near-duplicates of what is already shown
lift a gold article into the top 5 or 10?

usage: python -m benchmarks.diversity_probe DATA_DIR --index-dir DIR [--json OUT]

Answers DATA_DIR/queries.jsonl with the default configuration, undated and dated (as of each
question's date), and records the 60 best candidates of the learned ranking with their vectors.
Then picks 10 articles greedily (one passage per article, syndicated copies once, as shaping does)
with each candidate's score lowered by `lam * max(0, (s - tau) / (1 - tau))`, `s` its highest
cosine to a passage already picked (maximal marginal relevance with a floor), for a grid of
`lam` (in the ranker's score units) and `tau`. Prints Hits@1/5/10, MRR@10 and AnsRec@5 (the
candidate passage's own text, not the merged hit) of `lam = 0` and each cell's difference to it.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import load_queries, split_parser
from qa.retrieval.rerankers import RerankInput
from qa.service import open_service
from qa.settings import Settings

DEPTH = 60
LAMBDAS = (0.25, 0.5, 1.0, 2.0, 4.0)
TAUS = (0.5, 0.7, 0.8, 0.9)
METRICS = ("Hits@1", "Hits@5", "Hits@10", "MRR@10", "AnsRec@5")
SETTINGS = ("undated", "dated")


@dataclass(frozen=True, slots=True)
class Ranked:
    """A question's best candidates, best first."""

    scores: np.ndarray
    articles: np.ndarray  # article numbers (the backend's column)
    texts: np.ndarray  # text numbers: equal for syndicated copies
    vectors: np.ndarray  # (n, dim) unit vectors
    article_ids: list[str]
    passages: list[str]


def collect(data_dir: Path, index_dir: Path) -> tuple[list[dict[str, Any]], dict[str, list[Ranked | None]]]:
    qa = open_service(Settings(index_dir=index_dir))
    queries = load_queries(data_dir)
    seen: list[Ranked] = []

    def record(c: RerankInput) -> np.ndarray:
        order = np.lexsort((c.ids, -c.scores))[:DEPTH]
        ids = c.ids[order]
        rows = c.reader.passages(ids.tolist())
        seen.append(
            Ranked(
                c.scores[order],
                c.columns.articles[order],
                c.columns.texts[order],
                c.reader.vectors(ids).astype(np.float32),
                [rows[int(i)].article_id for i in ids],
                [rows[int(i)].text for i in ids],
            )
        )
        return c.scores

    qa.reranker = record
    ranked: dict[str, list[Ranked | None]] = {s: [] for s in SETTINGS}
    for q in queries:
        for setting in SETTINGS:
            as_of = dt.date.fromisoformat(q["date"][:10]) if setting == "dated" else None
            seen.clear()
            qa.queries.clear()
            qa.ask(q["question"], 10, as_of=as_of)
            ranked[setting].append(seen[0] if seen else None)
    return queries, ranked


def pick(r: Ranked, lam: float, tau: float, k: int = 10) -> list[int]:
    """Positions of the k candidates shown: greedy, each step the best score after the penalty."""
    available = np.ones(len(r.scores), bool)
    nearest = np.full(len(r.scores), -1.0)
    chosen: list[int] = []
    while len(chosen) < k and available.any():
        adjusted = r.scores - lam * np.clip((nearest - tau) / (1 - tau), 0, None)
        j = int(np.argmax(np.where(available, adjusted, -np.inf)))
        available &= (r.articles != r.articles[j]) & (r.texts != r.texts[j])
        chosen.append(j)
        nearest = np.maximum(nearest, r.vectors @ r.vectors[j])
    return chosen


def measure(queries: list[dict[str, Any]], ranked: list[Ranked | None], lam: float, tau: float) -> np.ndarray:
    """`(questions, 5)` per-question METRICS."""
    out = np.zeros((len(queries), len(METRICS)))
    for i, (q, r) in enumerate(zip(queries, ranked, strict=True)):
        if r is None:
            continue
        chosen = pick(r, lam, tau)
        ids = [r.article_ids[j] for j in chosen]
        gold, answers = set(q["gold_ids"]), [a.lower() for a in q["answers"]]
        first = next((rank for rank, a in enumerate(ids[:10], 1) if a in gold), None)
        out[i] = (
            ids[:1] != [] and ids[0] in gold,
            any(a in gold for a in ids[:5]),
            any(a in gold for a in ids[:10]),
            1 / first if first else 0.0,
            any(ans in r.passages[j].lower() for j in chosen[:5] for ans in answers),
        )
    return out


def main(argv: list[str] | None = None) -> None:
    parser = split_parser(__doc__)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    queries, ranked = collect(args.data_dir, args.index_dir)
    report: dict[str, Any] = {"questions": len(queries), "metrics": METRICS}
    for setting in SETTINGS:
        base = measure(queries, ranked[setting], 0.0, 0.5).mean(0)
        report[setting] = {"base": base.round(4).tolist(), "cells": []}
        print(f"\n{args.data_dir.name} ({len(queries)} questions), {setting}: lam 0 " + _row(base))
        for lam in LAMBDAS:
            for tau in TAUS:
                diff = measure(queries, ranked[setting], lam, tau).mean(0) - base
                report[setting]["cells"].append({"lam": lam, "tau": tau, "diff": diff.round(4).tolist()})
                print(f"  lam {lam:<4} tau {tau:<3} " + _row(diff, signed=True))
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))


def _row(values: np.ndarray, *, signed: bool = False) -> str:
    return "  ".join(
        f"{m} {v:+.4f}" if signed else f"{m} {v:.4f}" for m, v in zip(METRICS, values, strict=True)
    )


if __name__ == "__main__":
    main()
