"""Probe more evidence for the match model (`qa.retrieval.match`) on a train index: how far the
first hit's cosine stands above the rest of the dense candidates (session 20; nothing shipped).

usage: python -m benchmarks.match_probes DATA_DIR --index-dir DIR [--json OUT]

The idea: an archive that lacks the story answers with a first hit no closer than many others,
one that holds it with a passage that stands out. The first hits are those `qa train-match`
fits on (`qa.match_training`: each dated question asked as of its date, a gold first hit "held";
as of 60 days earlier, a first hit without an answer "lacking"; undated and dated). For each, the
shipped inputs (cosine, coverage, bigrams) and the dense scores of the same request's 100 dense
candidates: the best, the 10th, the 50th, the mean of the first 10 and the spread of the first 50.
Each variant is the shipped logistic fit (`fit_match`) on one of two folds of the questions and
scored on the other; reported: the area under the ROC curve and the share of lacking first hits
below the level where 1 % of the held ones fall (the `weak` rule).
"""

from __future__ import annotations

import datetime as dt
import json
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import split_parser
from benchmarks.match_eval import auc
from qa.match_training import GAP_DAYS, MatchExamples, fit_match
from qa.ranker_training import read_queries
from qa.retrieval.match import WEAK_QUANTILE
from qa.service import QAService, open_service
from qa.settings import Settings


def collect(qa: QAService, queries: list[dict[str, Any]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`(x, held, question)`: per first hit, the 3 shipped inputs and 5 dense-list figures."""
    reader = qa.reader()
    rows, held, numbers = [], [], []
    for number, q in enumerate(queries):
        day = dt.date.fromisoformat(str(q["date"])[:10])
        before = day - dt.timedelta(days=GAP_DAYS)
        gold = {str(g) for g in q["gold_ids"]}
        answers = [a.lower() for a in q.get("answers") or [] if a]
        for options, positive in (
            ({}, True),
            ({"until": before}, False),
            ({"as_of": day}, True),
            ({"as_of": before}, False),
        ):
            hits = qa.ask(q["question"], 1, **options).hits
            if not hits:
                continue
            hit = hits[0]
            if positive and not (hit.article_id in gold or gold & set(hit.duplicates)):
                continue
            if not positive and any(a in hit.text.lower() for a in answers):
                continue
            request = qa._request(
                reader, q["question"], None, options.get("until"), None, options.get("as_of"), True
            )
            a = request.arguments
            dense = np.sort(reader.candidates(a["vector"], None, 100, a["filters"]).dense_scores)[::-1]
            at = [dense[min(i, len(dense) - 1)] for i in (0, 9, 49)]
            figures = [*at, float(dense[:10].mean()), float(dense[:50].std())]
            rows.append([*qa.match_inputs(q["question"], [hit.passage_id])[0], *figures])
            held.append(positive)
            numbers.append(number)
    return np.array(rows), np.array(held), np.array(numbers)


def variants(x: np.ndarray) -> dict[str, np.ndarray]:
    cos, coverage, bigrams, best, d10, d50, mean10, spread50 = x.T
    shipped = np.c_[cos, coverage, bigrams]
    return {
        "shipped inputs": shipped,
        "+ cosine over the 10th": np.c_[shipped, cos - d10],
        "+ cosine over the 50th": np.c_[shipped, cos - d50],
        "+ both": np.c_[shipped, cos - d10, cos - d50],
        "+ z-score in the first 50": np.c_[shipped, (cos - mean10) / np.maximum(spread50, 1e-6)],
        "+ best and 10th": np.c_[shipped, best, d10],
    }


def study(x: np.ndarray, held: np.ndarray, numbers: np.ndarray, texts: list[str]) -> dict[str, Any]:
    fold = np.array([zlib.crc32(texts[n].strip().lower().encode()) % 2 for n in numbers.tolist()])
    report = {}
    for name, columns in variants(x).items():
        scores = np.zeros(len(held))
        for f in (0, 1):
            # the shipped fit reads its columns as MATCH_FEATURES only for the file it writes
            model = fit_match(MatchExamples(columns[fold != f], held[fold != f]))
            z = (columns[fold == f] - model.mean) / model.scale
            scores[fold == f] = z @ model.weights + model.bias
        level = np.quantile(scores[held], WEAK_QUANTILE)
        report[name] = {
            "auc": round(auc(scores[held], scores[~held]), 4),
            "lacking called weak": round(float((scores[~held] < level).mean()), 4),
        }
    return report


def main(argv: list[str] | None = None) -> None:
    parser = split_parser(__doc__)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    base = Settings(index_dir=args.index_dir)
    qa = open_service(
        base.model_copy(update={"retrieval": base.retrieval.model_copy(update={"match": False})})
    )
    queries = [q for q in read_queries(args.data_dir / "queries.jsonl") if q.get("date")]
    qa.prepare([q["question"] for q in queries])
    x, held, numbers = collect(qa, queries)
    report = study(x, held, numbers, [q["question"] for q in queries])
    print(f"{int(held.sum())} held and {int((~held).sum())} lacking first hits, two folds by question")
    for name, row in report.items():
        print(f"  {name:28} AUC {row['auc']:.4f}  lacking called weak {row['lacking called weak']:.3f}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
