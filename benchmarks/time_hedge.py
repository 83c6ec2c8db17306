"""Hedging a page against the wrong guess about when: a two-fold study on a train index (issue 15).

usage: python -m benchmarks.time_hedge study FILE.npz DATA_DIR [--json OUT]

The learned ranker weighs recency by what the train questions taught it: most gold articles are
a few days older than the question, so fresh articles rank first. A question whose answer lies
months back then loses its gold article below the first ten, which is where the dated Hits@10
target is decided ("Where the margins lie" in docs/BENCHMARKS.md). A page of ten can hedge: keep
the ranker's order for most of it and give a few places to the best articles of a second,
time-blind order (the same fitted model with the recency features' weights set to zero, or a
model fitted without them), those not already shown.

`FILE.npz` is what `benchmarks.ranker_objectives collect` writes. Folds, fits and metrics are
those of `benchmarks.ranker_objectives` (each fold ranked by models fitted on the other); every
hedge is compared with the ranker's own page, paired bootstrap intervals.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import paired_bootstrap
from benchmarks.ranker_objectives import METRICS, SETTINGS, Candidates, _starts, fit, subcommands
from qa.ranker_training import read_queries

RECENCY = tuple(f"{n}{s}" for s in ("", "_dated", "_present") for n in ("week", "month", "year"))
CONSENSUS = ("consensus_week", "consensus_month")
PAGE = 10

# A merge takes the ranker's article order and the time-blind one and returns the page.
Merge = Callable[[list[int], list[int]], list[int]]


def _articles(c: Candidates, block: np.ndarray, s: np.ndarray, n: int) -> list[int]:
    """The best passage (a row of `c`) of each of the first `n` articles of `block` by `s`."""
    shown, seen = [], set()
    for i in block[np.argsort(-s[block], kind="stable")].tolist():
        if c.article[i] not in seen:
            seen.add(c.article[i])
            shown.append(i)
            if len(shown) == n:
                break
    return shown


def slots(places: tuple[int, ...]) -> Merge:
    """A page whose `places` (0-based) go to the time-blind order's best articles not yet shown
    (by either order), the rest to the ranker's order."""

    def merge(first: list[int], second: list[int]) -> list[int]:
        page: list[int] = []
        taken: set[int] = set()
        a = iter(first)
        b = iter(second)
        for place in range(PAGE):
            source, other = (b, a) if place in places else (a, b)
            pick = next((i for i in source if i not in taken), None)
            if pick is None:
                pick = next((i for i in other if i not in taken), None)
            if pick is None:
                break
            page.append(pick)
            taken.add(pick)
        return page

    return merge


def _metrics(c: Candidates, page: list[int]) -> dict[str, float]:
    first = next((r for r, i in enumerate(page) if c.gold[i]), None)
    out = {f"Hits@{k}": float(first is not None and first < k) for k in (1, 5, 10)}
    out["MRR@10"] = 0.0 if first is None else 1.0 / (first + 1)
    out["AnsRec@5"] = float(any(c.answer[i] for i in page[:5]))
    return out


def pages(
    c: Candidates, rows: np.ndarray, s1: np.ndarray, s2: np.ndarray, merges: dict[str, Merge]
) -> dict[str, dict[str, list[float]]]:
    """Per merge, each metric of every question-setting of `rows` (and `dated`)."""
    out: dict[str, dict[str, list[float]]] = {n: {m: [] for m in (*METRICS, "dated")} for n in merges}
    starts = _starts(c.group[rows])
    for begin, end in zip(starts, np.r_[starts[1:], len(rows)], strict=True):
        block = rows[begin:end]
        # Articles are keyed by their best passage: map the blind order's passages to articles too.
        first = _articles(c, block, s1, 3 * PAGE)
        second = _articles(c, block, s2, 3 * PAGE)
        best = {c.article[i]: i for i in first}
        second = [best.get(c.article[i], i) for i in second]
        for name, merge in merges.items():
            page = merge(first, second)
            for m, v in _metrics(c, page).items():
                out[name][m].append(v)
            out[name]["dated"].append(float(c.group[block[0]] % 2))
    return out


def study(c: Candidates) -> dict[str, Any]:
    recency = np.array([f in RECENCY for f in c.features])
    both = np.array([f in RECENCY or f in CONSENSUS for f in c.features])
    merges: dict[str, Merge] = {"ranker": slots(())}
    for places in ((9,), (8, 9), (7, 8, 9), (4,), (4, 9), (3, 4, 8, 9), (2, 5, 8)):
        merges[f"blind at {','.join(str(p + 1) for p in places)}"] = slots(places)
    seconds = {
        "zeroed recency": lambda model: np.where(np.r_[recency, False], 0.0, model),
        "zeroed recency+consensus": lambda model: np.where(np.r_[both, False], 0.0, model),
    }
    per: dict[str, dict[str, dict[str, list[float]]]] = {}
    refit_parts = []
    for f in (0, 1):
        train, test = np.flatnonzero(c.fold != f), np.flatnonzero(c.fold == f)
        model = fit(c, train, c.answer, None)
        s1 = c.x @ model[:-1] + model[-1]
        full = c.x
        c.x = full[:, ~recency]
        try:
            blind = fit(c, train, c.answer, None)
        finally:
            c.x = full
        s_refit = full[:, ~recency] @ blind[:-1] + blind[-1]
        variants = {name: make(model) for name, make in seconds.items()}
        scored = {name: c.x @ w[:-1] + w[-1] for name, w in variants.items()}
        scored["refit without recency"] = s_refit
        for name, s2 in scored.items():
            part = pages(c, test, s1, s2, merges)
            for merge, values in part.items():
                key = "ranker" if merge == "ranker" else f"{name}: {merge}"
                bucket = per.setdefault(key, {m: [] for m in values})
                if merge == "ranker" and name != "zeroed recency":
                    continue
                for m, v in values.items():
                    bucket[m].extend(v)
        refit_parts.append(pages(c, test, s_refit, s_refit, {"alone": slots(())})["alone"])
    per["refit without recency, alone"] = {
        m: [*refit_parts[0][m], *refit_parts[1][m]] for m in refit_parts[0]
    }
    base = {m: np.array(v) for m, v in per["ranker"].items()}
    report: dict[str, Any] = {}
    for key, values in per.items():
        arrays = {m: np.array(v) for m, v in values.items()}
        report[key] = {}
        for d, setting in enumerate(SETTINGS):
            mask = arrays["dated"] == d
            row: dict[str, Any] = {}
            for m in METRICS:
                a, b = arrays[m][mask], base[m][mask]
                low, high, _ = paired_bootstrap(a, b)
                row[m] = {
                    "value": round(float(a.mean()), 4),
                    "diff": round(float((a - b).mean()), 4),
                    "ci95": [round(low, 4), round(high, 4)],
                }
            report[key][setting] = row
    return report


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    _, (s,) = subcommands(parser, "study")
    s.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    if args.command != "study":
        raise SystemExit("collect with `python -m benchmarks.ranker_objectives collect`")
    c = Candidates(args.candidates, read_queries(args.data_dir / "queries.jsonl"))
    report = study(c)
    for key, block in report.items():
        for setting, row in block.items():
            cells = "  ".join(f"{m} {d['value']:.4f} {d['diff']:+.4f}" for m, d in row.items())
            print(f"{key:48} {setting:8} {cells}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
