"""The ranking stage alone, per question: hand-set weights against the learned ranker.

usage: python -m benchmarks.ranking_cost DATA_DIR --index-dir DIR [--repeat N]

For each question of DATA_DIR/queries.jsonl the backend's candidates are fetched once; then each
stage is timed on them, `--repeat` times, interleaved: `weights` (fusion, columns, date factors)
and `learned` (columns, copies, features, the linear model). Prints p50 and p95 in microseconds.
"""

from __future__ import annotations

import datetime as dt
import time

import numpy as np

from benchmarks.common import load_queries, split_parser
from embeddings.backends import Filters
from qa.retrieval import ranking
from qa.retrieval.config import RetrievalConfig
from qa.retrieval.features import QueryFacts, asks_present
from qa.retrieval.fusion import fuse
from qa.retrieval.learned import load_ranker
from qa.retrieval.pipeline import candidate_features
from qa.service import open_service
from qa.settings import Settings


def main(argv: list[str] | None = None) -> None:
    parser = split_parser(__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    queries = load_queries(args.data_dir)
    qa = open_service(Settings(index_dir=args.index_dir))
    reader, config, model = qa.reader(), RetrievalConfig(), load_ranker()
    as_of = reader.max_date() or dt.date.today()
    qa.prepare([q["question"] for q in queries])
    costs: dict[str, list[float]] = {"weights": [], "learned": []}
    for q in queries:
        candidates = reader.candidates(
            qa.queries.vector(q["question"]), q["question"], config.candidates, Filters()
        )
        facts = QueryFacts(None, as_of, False, asks_present(q["question"]))
        for _ in range(args.repeat):
            started = time.perf_counter()
            ids, scores = fuse(candidates, config)
            scores *= ranking.date_factors(reader.columns(ids).days, None, as_of, config)
            middle = time.perf_counter()
            _, _, x = candidate_features(reader, candidates, facts, q["question"])
            model.score(x)
            costs["weights"].append(middle - started)
            costs["learned"].append(time.perf_counter() - middle)
    for name, values in costs.items():
        us = np.array(values) * 1e6
        print(
            f"{name:8} p50 {np.median(us):7.0f} µs   p95 {np.quantile(us, 0.95):7.0f} µs  ({len(us)} timings)"
        )


if __name__ == "__main__":
    main()
