"""Related articles against the splits' ground truth: articles that answer the same question.

usage: python -m benchmarks.related DATA_DIR --index-dir DIR [--grid] [--ranker FILE] [--json OUT]

For every indexed article that shares a question's `gold_ids` (two or more) with others, asks
`related(article, 10)` in each mode and scores Hit@10 (one of the others among the 10) and
Recall@10 (the share of the others among the 10), with a paired-bootstrap 95 % interval of each
mode's difference to the better of the two references: `dense` (centroid of the article's passage
vectors) and `lexical` (BM25 of its title and first 600 characters). Hit@10 and Recall@10 count
the syndicated copies listed with a shown article (`copies`, "also published by") and, in the
modes that fold copies in, the article's own (`QAService.copies`) as returned;
`Hit@10.shown` and `Recall@10.shown` count the shown articles only. `--grid` also tries the
hybrid's weights (for fitting them on the train split).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import load_queries, paired_bootstrap
from embeddings.errors import ArticleNotFoundError
from qa.evaluation import related_returned, related_truth
from qa.retrieval import RetrievalConfig
from qa.service import QAService, open_service
from qa.settings import Settings

K = 10
MODES: dict[str, dict[str, Any]] = {
    "dense (reference: centroid)": {"related": "dense"},
    "lexical (reference: BM25 title + 600 chars)": {"related": "lexical"},
    "hybrid, no time, no collapse": {
        "related": "hybrid",
        "related_time_weight": 0.0,
        "collapse_duplicates": False,
    },
    "hybrid, no collapse": {"related": "hybrid", "collapse_duplicates": False},
    "hybrid (the previous default)": {"related": "hybrid"},
    "learned, no collapse": {"related": "learned", "collapse_duplicates": False},
    "learned (default)": {"related": "learned"},
}


def per_article(qa: QAService, truth: dict[str, set[str]], config: RetrievalConfig) -> dict[str, np.ndarray]:
    """Hit@10 and Recall@10 of each article of `truth` present in the index, in sorted order,
    copies counted and (`.shown`) not."""
    qa.retrieval = config
    out: dict[str, list[float]] = {f"{m}@{K}{s}": [] for s in ("", ".shown") for m in ("Hit", "Recall")}
    for article, others in sorted(truth.items()):
        try:
            listed, shown = related_returned(qa, article, K)
        except ArticleNotFoundError:
            continue
        for suffix, ids in (("", listed), (".shown", shown)):
            out[f"Hit@{K}{suffix}"].append(float(bool(ids & others)))
            out[f"Recall@{K}{suffix}"].append(len(ids & others) / len(others))
    return {key: np.array(values) for key, values in out.items()}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--index-dir", type=Path, required=True)
    parser.add_argument("--grid", action="store_true", help="also try the hybrid's weights")
    parser.add_argument("--limit", type=int, help="a seeded sample of this many articles (a quick grid)")
    parser.add_argument(
        "--ranker", type=Path, help="related-ranker file of the learned rows (default: the shipped one)"
    )
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    queries = load_queries(args.data_dir)
    truth = related_truth(queries)
    if args.limit:
        reader = open_service(Settings(index_dir=args.index_dir)).reader()
        present = sorted(a for a in truth if len(reader.article_passages(a)))
        keep = np.random.default_rng(0).permutation(len(present))[: args.limit]
        truth = {present[i]: truth[present[i]] for i in sorted(keep.tolist())}
    qa = open_service(Settings(index_dir=args.index_dir))
    modes = dict(MODES)
    if args.grid:
        for lw in (0.5, 1.0, 2.0):
            for tw in (0.0, 1.0, 3.0):
                for half_life in (3.0, 30.0):
                    modes[f"grid lexical {lw} time {tw} half-life {half_life}"] = {
                        "related": "hybrid",
                        "related_lexical_weight": lw,
                        "related_time_weight": tw,
                        "related_half_life_days": half_life,
                    }
    scores, seconds = {}, {}
    for name, changes in modes.items():
        started = time.perf_counter()
        config = RetrievalConfig(**changes, related_ranker_path=args.ranker)
        scores[name] = per_article(qa, truth, config)
        seconds[name] = (time.perf_counter() - started) / max(len(scores[name][f"Hit@{K}"]), 1)
    refs = list(MODES)[:2]
    report: dict[str, Any] = {
        "data": args.data_dir.name,
        "articles": len(scores[refs[0]][f"Hit@{K}"]),
        "rows": {},
    }
    print(f"{args.data_dir.name}: {report['articles']} articles with related ground truth")
    for name, s in scores.items():
        row: dict[str, Any] = {m: round(float(v.mean()), 4) for m, v in s.items()}
        row["ms_per_article"] = round(1000 * seconds[name], 2)
        for metric, values in s.items():
            best = max(refs, key=lambda r, m=metric: float(scores[r][m].mean()))
            low, high, _ = paired_bootstrap(values, scores[best][metric])
            row[f"{metric} vs {best.split()[0]}"] = {
                "diff": round(float((values - scores[best][metric]).mean()), 4),
                "ci95": [round(low, 4), round(high, 4)],
            }
        report["rows"][name] = row
        diffs = "  ".join(
            f"{key} {d['diff']:+.3f} [{d['ci95'][0]:+.3f},{d['ci95'][1]:+.3f}]"
            for key, d in row.items()
            if isinstance(d, dict)
        )
        print(
            f"{name[:48]:48} Hit@{K} {row[f'Hit@{K}']:.4f}  Recall@{K} {row[f'Recall@{K}']:.4f}"
            f"  (shown only {row[f'Recall@{K}.shown']:.4f})  {row['ms_per_article']:.1f} ms  {diffs}"
        )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
