"""Would the learned ranker do better fitted on the later splits' mix of old-gold questions? (issue 15)

usage: python -m benchmarks.recency_mix TRAIN.npz TRAIN_DIR [--dev DEV.npz DEV_DIR] [--weights 2,3,5.5]
       [--json OUT]

Train holds few questions whose gold articles are all more than 60 days older than the question
(`old` in `benchmarks.gold_age`: 15 %); dev holds 51 % and validation 37 %. A ranker fitted on
train learns a strong recency prior, right for the rest and wrong for these. This fits the shipped
loss (`benchmarks.ranker_objectives.fit`) with each old-gold train question weighted W (the others
1; W = 5.5 gives train dev's mix) and compares with W = 1 (the shipped fit):

- on train, two folds by question text, as `ranker_objectives` does;
- with `--dev` (candidates `ranker_probes collect` or `ranker_objectives collect` saved from a dev
  index), fitted on all of train and scored on dev with its features clipped to train's range, as
  serving clips them.

Each metric overall and for the `fresh` (newest gold ≤ 14 days) and `old` buckets, undated /
dated, with paired-bootstrap intervals against W = 1. Hits and MRR count the saved candidates' gold
flags; AnsRec@5 counts answer-holding gold passages, as `ranker_objectives` does.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import load_queries, paired_bootstrap
from benchmarks.gold_age import buckets, metric_cells
from benchmarks.ranker_objectives import METRICS, SETTINGS, Candidates, _starts, fit, score

SLICES = ("all", "fresh", "old")


def _scored(c: Candidates, rows: np.ndarray, model: np.ndarray) -> dict[str, np.ndarray]:
    """`score`'s arrays and the question number of each entry (entries in group order)."""
    out = score(c, rows, model)
    out["number"] = c.group[rows][_starts(c.group[rows])] // 2
    return out


def on_train_folds(c: Candidates, weights: np.ndarray) -> dict[str, np.ndarray]:
    parts = []
    for f in (0, 1):
        model = fit(c, np.flatnonzero(c.fold != f), c.answer, None, weights=weights)
        parts.append(_scored(c, np.flatnonzero(c.fold == f), model))
    return {k: np.r_[parts[0][k], parts[1][k]] for k in parts[0]}


def on_dev(train: Candidates, dev: Candidates, weights: np.ndarray) -> dict[str, np.ndarray]:
    everything = np.arange(len(train.x))
    model = fit(train, everything, train.answer, None, weights=weights)
    low, high = train.x.min(axis=0), train.x.max(axis=0)
    full = dev.x
    dev.x = np.minimum(np.maximum(full, low), high)
    try:
        return _scored(dev, np.arange(len(dev.x)), model)
    finally:
        dev.x = full


def compare(
    runs: dict[float, dict[str, np.ndarray]], labels: np.ndarray
) -> dict[str, dict[str, dict[str, Any]]]:
    """Per weight, setting and slice: each metric's mean and its difference to W = 1."""
    base = runs[1.0]
    report: dict[str, dict[str, dict[str, Any]]] = {}
    for weight, out in runs.items():
        block: dict[str, dict[str, Any]] = {}
        for d, setting in enumerate(SETTINGS):
            for part in SLICES:
                keep = out["dated"] == d
                if part != "all":
                    keep &= labels[out["number"]] == part
                row: dict[str, Any] = {"questions": int(keep.sum())}
                for m in METRICS:
                    row[m] = round(float(out[m][keep].mean()), 4)
                    if weight != 1.0:
                        low, high, _ = paired_bootstrap(out[m][keep], base[m][keep])
                        diff = float((out[m][keep] - base[m][keep]).mean())
                        row[f"{m} diff"] = [round(diff, 4), round(low, 4), round(high, 4)]
                block[f"{setting} {part}"] = row
        report[f"W={weight:g}"] = block
    return report


def show(title: str, report: dict[str, dict[str, dict[str, Any]]]) -> None:
    print(f"## {title}")
    for weight, block in report.items():
        print(f"== {weight}")
        for key, row in block.items():
            print(f"  {key:15s} n={row['questions']:4d}  " + metric_cells(row), flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("train", type=Path, help="candidates collected from a train index")
    parser.add_argument("train_dir", type=Path, help="the train split")
    parser.add_argument("--dev", nargs=2, type=Path, metavar=("DEV.npz", "DEV_DIR"))
    parser.add_argument("--weights", default="2,3,5.5", help="weights of old-gold questions, comma-separated")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    weights = [1.0, *(float(w) for w in args.weights.split(",") if w and float(w) != 1.0)]
    if any(w <= 0 for w in weights):
        parser.error("--weights must be positive")
    train_labels = buckets(args.train_dir)
    train = Candidates(args.train, load_queries(args.train_dir))
    runs = {w: on_train_folds(train, np.where(train_labels == "old", w, 1.0)) for w in weights}
    print(f"old-gold questions: {np.mean(train_labels == 'old'):.1%} of train")
    report = {"train folds": compare(runs, train_labels)}
    show("train, two folds", report["train folds"])
    if args.dev:
        dev_npz, dev_dir = args.dev
        dev_labels = buckets(dev_dir)
        dev = Candidates(dev_npz, load_queries(dev_dir))
        print(f"old-gold questions: {np.mean(dev_labels == 'old'):.1%} of dev")
        dev_runs = {w: on_dev(train, dev, np.where(train_labels == "old", w, 1.0)) for w in weights}
        report["dev"] = compare(dev_runs, dev_labels)
        show("dev, fitted on all of train", report["dev"])
    if args.json:
        args.json.write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
