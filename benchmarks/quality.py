"""Retrieval quality: the service's default configuration against BM25, dense and RRF references.

usage: python -m benchmarks.quality DATA_DIR [--encoder onnx-int8] [--no-ablation] [--title-ablation]
       [--chunk-size-ablation TOKENS] [--json OUT]

Builds (incrementally, so a rerun embeds nothing) the service's index of DATA_DIR/corpus.jsonl
under .bench/indexes/, answers DATA_DIR/queries.jsonl with the default configuration and with
each ablation, scores everything with the shared score.py, and prints the margins over the best
reference per metric, each with a paired-bootstrap 95 % interval over the questions. The
references come from benchmarks.references (embeddings cached); their results are written to
.bench/results/<DATA_DIR name>/.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import (
    DEFAULT_CACHE_DIR,
    DEFAULT_RESULTS_DIR,
    REPO_ROOT,
    load_queries,
    paired_bootstrap,
    per_query_scores,
    score,
    words_at,
    write_results,
)
from benchmarks.references import reference_report, reference_results
from embeddings.readers import count_articles, iter_articles
from qa.evaluation import answer_queries
from qa.retrieval import RetrievalConfig
from qa.service import QAService, open_service
from qa.settings import Settings

METRICS = ["Hits@1", "Hits@5", "Hits@10", "MRR@10", "AnsRec@5", "AnsRec@10", "HiAnsRec@1", "HiAnsRec@5"]
TARGETS = {"MRR@10": 0.08, "Hits@10": 0.06, "Hits@5": 0.08, "AnsRec@5": 0.08}
INDEX_ROOT = REPO_ROOT / ".bench" / "indexes"


def open_index(data_dir: Path, encoder: str, *, title_context: bool = True, **overrides: Any) -> QAService:
    """The service over an index of the benchmark corpus (built or brought up to date first)."""
    tag = f"{data_dir.resolve().name}-{encoder}-{'title' if title_context else 'plain'}"
    if "chunk_size" in overrides:
        tag += f"-size{overrides['chunk_size']}"
    settings = Settings(index_dir=INDEX_ROOT / tag, encoder=encoder, title_context=title_context, **overrides)
    qa = open_service(settings, progress="bar" if sys.stderr.isatty() else "log")
    started = time.perf_counter()
    corpus = [data_dir / "corpus.jsonl"]
    report = qa.add(iter_articles(corpus), total=count_articles(corpus))
    seconds = time.perf_counter() - started
    if report.passages_embedded:
        print(
            f"indexed {tag}: {report.passages_embedded} passages embedded in {seconds:.0f}s"
            f" ({report.passages_embedded / seconds:.1f} passages/s)"
        )
    return qa


def evaluate(
    qa: QAService,
    data_dir: Path,
    retrieval: RetrievalConfig,
    *,
    as_of_from_date: bool = False,
    keep: list[dict[str, Any]] | None = None,
) -> tuple[dict[str, Any], list[float]]:
    """Metrics of one configuration and its per-question latencies in ms (query embedding included).

    The score.py results are appended to `keep` when given.
    """
    queries = load_queries(data_dir)
    qa.retrieval = retrieval
    qa.queries.clear()
    latencies: list[float] = []
    results = []
    for q in queries:
        started = time.perf_counter()
        results += answer_queries(qa, [q], k=10, as_of_from_date=as_of_from_date)
        latencies.append((time.perf_counter() - started) * 1000)
    if keep is not None:
        keep.extend(results)
    return score(data_dir / "queries.jsonl", results) | {"Words@5": words_at(results)}, latencies


def _with(config: RetrievalConfig, **changes: Any) -> RetrievalConfig:
    return config.model_copy(update=changes)


def ablations(default: RetrievalConfig) -> list[tuple[str, bool, RetrievalConfig]]:
    """(name, title context, retrieval) rows, each adding one feature to the row before."""
    plain = _with(
        default,
        lexical=False,
        max_per_article=1000,
        collapse_duplicates=False,
        merge_adjacent=False,
        time_boost=0.0,
        recency_weight=0.0,
        strip_time=False,
        lexical_weight=1.0,
    )
    hybrid = _with(plain, lexical=True)
    weighted = _with(hybrid, lexical_weight=default.lexical_weight)
    shaped = _with(weighted, max_per_article=default.max_per_article, collapse_duplicates=True)
    timed = _with(shaped, time_boost=default.time_boost, strip_time=default.strip_time)
    recent = _with(default, merge_adjacent=False)
    return [
        ("dense, passage text only", False, plain),
        ("+ title context in embeddings", True, plain),
        ("+ hybrid: BM25 (title+passage) fused by RRF", True, hybrid),
        ("+ BM25 weight 1.5 in the fusion", True, weighted),
        ("+ result shaping (1 passage/article, dup collapse)", True, shaped),
        ("+ question time expressions (boost, stripped)", True, timed),
        ("+ mild recency (0.5, half-life 180 d)", True, recent),
        ("+ adjacent passage merged into a hit when it ranked too = default", True, default),
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--encoder", default=Settings().encoder)
    parser.add_argument("--no-ablation", action="store_true")
    parser.add_argument(
        "--title-ablation",
        action="store_true",
        help="also build an index without title context (a second full embedding)",
    )
    parser.add_argument(
        "--chunk-size-ablation",
        type=int,
        metavar="TOKENS",
        help="also score the default over an index with this passage size (another full embedding)",
    )
    parser.add_argument("--json", type=Path, help="write every figure here as JSON")
    args = parser.parse_args(argv)

    runs = reference_results(args.data_dir, DEFAULT_CACHE_DIR, engine="onnx")
    for name, (results, _) in runs.items():  # one folder per benchmark, so runs never mix
        write_results(DEFAULT_RESULTS_DIR / args.data_dir.resolve().name / f"{name}.jsonl", results)
    refs = reference_report(args.data_dir, runs)
    best = {m: max(r.get(m, 0.0) for r in refs.values()) for m in METRICS[:6]}
    default = Settings().retrieval()
    rows: dict[str, dict[str, Any]] = {f"ref: {k}": v for k, v in refs.items()}

    services = {True: open_index(args.data_dir, args.encoder)}
    default_results: list[dict[str, Any]] = []
    metrics, lat = evaluate(services[True], args.data_dir, default, keep=default_results)
    rows["service default (as_of = today)"] = metrics | _latency(lat)
    intervals = margin_intervals(args.data_dir / "queries.jsonl", default_results, runs)
    metrics, lat = evaluate(services[True], args.data_dir, default, as_of_from_date=True)
    rows["service default (as_of = question date)"] = metrics | _latency(lat)

    if not args.no_ablation:
        if args.title_ablation:
            services[False] = open_index(args.data_dir, args.encoder, title_context=False)
        for name, title, config in ablations(default):
            if title not in services:
                continue
            metrics, lat = evaluate(services[title], args.data_dir, config)
            rows[f"ablation: {name}"] = metrics | _latency(lat)
        for name, config in [
            ("dense only (no BM25), default otherwise", _with(default, lexical=False)),
            ("BM25 weight 1.0", _with(default, lexical_weight=1.0)),
            ("BM25 weight 2.0", _with(default, lexical_weight=2.0)),
            (
                "linear fusion (cosine + 0.5 x BM25/max)",
                _with(default, fusion="linear", lexical_weight=0.5),
            ),
            ("article evidence 0.5", _with(default, article_weight=0.5)),
            ("2 passages per article", _with(default, max_per_article=2)),
            ("no duplicate collapse", _with(default, collapse_duplicates=False)),
            ("time windows as hard filters", _with(default, time_filter=True)),
            ("no highlight (latency)", _with(default, highlight=False)),
            (
                "highlight weighs terms by passage idf, not archive idf",
                _with(default, highlight_corpus_idf=False),
            ),
        ]:
            metrics, lat = evaluate(services[True], args.data_dir, config)
            rows[f"variant: {name}"] = metrics | _latency(lat)
        if args.chunk_size_ablation:
            sized = open_index(args.data_dir, args.encoder, chunk_size=args.chunk_size_ablation)
            metrics, lat = evaluate(sized, args.data_dir, default)
            rows[f"variant: passages of up to {args.chunk_size_ablation} tokens"] = metrics | _latency(lat)

    _print(rows, best, intervals)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        report = {"rows": rows, "best_reference": best, "margin_intervals": intervals}
        args.json.write_text(json.dumps(report, indent=2))


def margin_intervals(
    queries_path: Path,
    results: list[dict[str, Any]],
    runs: dict[str, tuple[list[dict[str, Any]], float]],
) -> dict[str, dict[str, Any]]:
    """Per target metric: the margin over the best reference with its paired-bootstrap 95 % interval
    (questions resampled) and the share of resamples in which the margin reaches the target.

    163 questions make a margin uncertain by several hundredths; the interval says how much of
    a difference the benchmark can tell apart from chance, and so how a margin may move on
    held-back questions of the same kind.
    """
    ours = per_query_scores(queries_path, results)
    theirs = {name: per_query_scores(queries_path, r) for name, (r, _) in runs.items()}
    out: dict[str, dict[str, Any]] = {}
    for metric, target in TARGETS.items():
        reference = max(theirs, key=lambda name: float(theirs[name][metric].mean()))
        low, high, means = paired_bootstrap(ours[metric], theirs[reference][metric])
        out[metric] = {
            "reference": reference,
            "margin": round(float(np.mean(ours[metric] - theirs[reference][metric])), 4),
            "ci95": [round(low, 4), round(high, 4)],
            "p_reaches_target": round(float(np.mean(means >= target - 1e-9)), 3),
        }
    return out


def _latency(ms: list[float]) -> dict[str, float]:
    ordered = sorted(ms)
    return {
        "p50_ms": round(statistics.median(ordered), 2),
        "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))], 2),
    }


def _print(
    rows: dict[str, dict[str, Any]], best: dict[str, float], intervals: dict[str, dict[str, Any]]
) -> None:
    cols = [*METRICS, "Words@5", "p50_ms", "p95_ms"]
    print(f"{'configuration':58}" + "".join(f"{c:>11}" for c in cols))
    for name, m in rows.items():
        print(
            f"{name[:58]:58}"
            + "".join(f"{m.get(c, float('nan')):>11.4f}" if c in m else f"{'-':>11}" for c in cols)
        )
    default = rows["service default (as_of = today)"]
    print("\nmargin of the default over the best reference (target), paired-bootstrap 95 % interval:")
    for metric, target in TARGETS.items():
        margin = default[metric] - best[metric]
        ci = intervals[metric]
        print(
            f"  {metric:9} {default[metric]:.4f} - {best[metric]:.4f} = {margin:+.4f}"
            f"  (target +{target:.2f}: {'met' if margin >= target else 'MISSED'})"
            f"  vs {ci['reference']}: 95% [{ci['ci95'][0]:+.3f}, {ci['ci95'][1]:+.3f}],"
            f" reaches target in {100 * ci['p_reaches_target']:.0f}% of resamples"
        )


if __name__ == "__main__":
    main()
