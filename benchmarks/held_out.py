"""Ranking configurations on one split, undated and dated, with paired-bootstrap intervals.

usage: python -m benchmarks.held_out DATA_DIR --index-dir DIR [--refs DIR] [--configs A,B] [--ranker FILE]
       [--highlighter FILE] [--json OUT] [--save DIR] [--baseline DIR]

Answers DATA_DIR/queries.jsonl over an index of DATA_DIR/corpus.jsonl already built with the
default settings (`qa index`), as of today and as of each question's date, for each named
configuration. Prints Hits@1/5/10, MRR@10, AnsRec@5, query p50 (in process, question embedding
included, configurations interleaved question by question so load on the machine hits all alike),
and each configuration's difference to `weights` (today's hand-set ranking) and to the best
reference with a paired-bootstrap 95 % interval. References are read from `--refs`
(`bm25.jsonl`, `dense.jsonl`, `rrf.jsonl`, and `*-dated.jsonl` for the dated setting, as written
by `python -m benchmarks.references DATA_DIR --engine onnx --out DIR [--as-of-from-date]`).

`--save DIR` writes each configuration's results there (`NAME.jsonl`, `NAME-dated.jsonl`, score.py
format); `--baseline DIR` reads such a folder, written by an earlier run over another index (a
different model, say), and adds each configuration's paired difference to its namesake there.
"""

from __future__ import annotations

import datetime as dt
import json
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import paired_bootstrap, per_query_scores, read_jsonl, split_parser, write_results
from qa.evaluation import score
from qa.retrieval import RetrievalConfig
from qa.service import QAService, open_service
from qa.settings import Settings

METRICS = ("Hits@1", "Hits@5", "Hits@10", "MRR@10", "AnsRec@5")
# The hand-set configuration the issue measured against, as it was then (no hit `match` yet): the
# base of the latency ratio. The learned default below measures its hits' match, as served.
BASE = RetrievalConfig(ranking="weights", lexical_time=False, match=False)
CONFIGS: dict[str, RetrievalConfig] = {
    "weights": BASE,
    "weights-recency0": BASE.model_copy(update={"recency_weight": 0.0}),
    "weights-notime": BASE.model_copy(update={"recency_weight": 0.0, "time_boost": 0.0}),
    "weights-lextime": BASE.model_copy(update={"lexical_time": True}),
    "learned": BASE.model_copy(update={"ranking": "learned"}),
    "learned-lextime": BASE.model_copy(update={"ranking": "learned", "lexical_time": True, "match": True}),
    # the default before the learned highlighter (issue 15, item 4): same hits, lexical highlight
    "learned-lextime-lexhl": BASE.model_copy(
        update={"ranking": "learned", "lexical_time": True, "highlighter": "lexical"}
    ),
}
SETTINGS = ("undated", "dated")


def answer_all(
    qa: QAService, queries: list[dict[str, Any]], configs: dict[str, RetrievalConfig], setting: str
) -> tuple[dict[str, list[dict[str, Any]]], dict[str, list[float]]]:
    """Results and per-question latencies (ms) of every configuration, interleaved per question."""
    results: dict[str, list[dict[str, Any]]] = {name: [] for name in configs}
    latency: dict[str, list[float]] = {name: [] for name in configs}
    for q in queries:
        as_of = dt.date.fromisoformat(q["date"][:10]) if setting == "dated" else None
        for name, config in configs.items():
            qa.retrieval = config
            qa.queries.clear()  # every configuration pays for its question's embedding
            started = time.perf_counter()
            answer = qa.ask(q["question"], 10, as_of=as_of)
            latency[name].append((time.perf_counter() - started) * 1000)
            results[name].append({"id": q["id"], "hits": [h.to_dict() for h in answer.hits]})
    return results, latency


def compare(
    queries_path: Path, ours: list[dict[str, Any]], theirs: list[dict[str, Any]]
) -> dict[str, dict[str, float]]:
    """Per metric: mean difference and paired-bootstrap 95 % interval (questions resampled)."""
    a, b = per_query_scores(queries_path, ours), per_query_scores(queries_path, theirs)
    out = {}
    for metric in METRICS:
        low, high, _ = paired_bootstrap(a[metric], b[metric])
        out[metric] = {
            "diff": round(float(np.mean(a[metric] - b[metric])), 4),
            "ci95": [round(low, 4), round(high, 4)],
        }
    return out


def read_refs(
    refs: Path | None, setting: str, names: tuple[str, ...] = ("bm25", "dense", "rrf")
) -> dict[str, list[dict[str, Any]]]:
    if refs is None:
        return {}
    suffix = "-dated" if setting == "dated" else ""
    found = {}
    for name in names:
        path = refs / f"{name}{suffix}.jsonl"
        if path.is_file():
            found[name] = read_jsonl(path)
    return found


def means(queries_path: Path, results: list[dict[str, Any]]) -> dict[str, float]:
    scores = per_query_scores(queries_path, results)
    return {m: round(float(scores[m].mean()), 4) for m in METRICS}


def run(
    data_dir: Path,
    index_dir: Path,
    names: list[str],
    refs: Path | None,
    ranker: Path | None = None,
    highlighter: Path | None = None,
    save: Path | None = None,
    baseline: Path | None = None,
) -> dict[str, Any]:
    queries_path = data_dir / "queries.jsonl"
    queries = read_jsonl(queries_path)
    qa = open_service(Settings(index_dir=index_dir))
    files = {"ranker_path": ranker, "highlighter_path": highlighter}
    configs = {name: CONFIGS[name].model_copy(update=files) for name in names}
    report: dict[str, Any] = {"data": data_dir.name, "questions": len(queries), "settings": {}}
    for setting in SETTINGS:
        results, latency = answer_all(qa, queries, configs, setting)
        if save is not None:
            _save(save, results, setting)
        earlier = read_refs(baseline, setting, tuple(configs))
        references = read_refs(refs, setting)
        ref_means = {name: means(queries_path, r) for name, r in references.items()}
        rows = {}
        base_p50 = statistics.median(latency["weights"]) if "weights" in latency else None
        for name in configs:
            p50 = statistics.median(latency[name])
            row: dict[str, Any] = means(queries_path, results[name]) | {"p50_ms": round(p50, 2)}
            # the highlight's own metric (score.py does not read highlights)
            row["HiAnsRec@5"] = score(queries, results[name]).get("HiAnsRec@5")
            if base_p50:
                row["p50_ratio"] = round(p50 / base_p50, 3)
            if name != "weights" and "weights" in results:
                row["vs_weights"] = compare(queries_path, results[name], results["weights"])
            if name in earlier:
                row["vs_baseline"] = compare(queries_path, results[name], earlier[name])
            if references:
                row["vs_best_reference"] = {}
                for metric in METRICS:
                    best = max(ref_means, key=lambda r, m=metric: ref_means[r][m])
                    diff = compare(queries_path, results[name], references[best])[metric]
                    row["vs_best_reference"][metric] = diff | {"reference": best}
            rows[name] = row
        report["settings"][setting] = {"rows": rows, "references": ref_means}
    return report


def _save(folder: Path, results: dict[str, list[dict[str, Any]]], setting: str) -> None:
    suffix = "-dated" if setting == "dated" else ""
    for name, rows in results.items():
        write_results(folder / f"{name}{suffix}.jsonl", rows)


def print_report(report: dict[str, Any]) -> None:
    for setting, block in report["settings"].items():
        print(f"\n{report['data']} ({report['questions']} questions), {setting}")
        print(
            f"{'system':34}"
            + "".join(f"{m:>10}" for m in METRICS)
            + f"{'p50 ms':>9}{'ratio':>7}{'HiAns@5':>9}"
        )
        for name, m in block["references"].items():
            print(f"{'ref: ' + name:34}" + "".join(f"{m[x]:>10.4f}" for x in METRICS))
        for name, m in block["rows"].items():
            print(
                f"{name:34}"
                + "".join(f"{m[x]:>10.4f}" for x in METRICS)
                + f"{m['p50_ms']:>9.2f}{m.get('p50_ratio', float('nan')):>7.2f}"
                + f"{m.get('HiAnsRec@5') or float('nan'):>9.4f}"
            )
        for name, m in block["rows"].items():
            for key in ("vs_weights", "vs_baseline", "vs_best_reference"):
                if key in m:
                    cells = "  ".join(
                        f"{x} {d['diff']:+.3f} [{d['ci95'][0]:+.3f},{d['ci95'][1]:+.3f}]"
                        for x, d in m[key].items()
                    )
                    print(f"  {name} {key}: {cells}")


def main(argv: list[str] | None = None) -> None:
    parser = split_parser(__doc__)
    parser.add_argument("--refs", type=Path, help="folder of the references' results (score.py format)")
    parser.add_argument(
        "--configs", default=",".join(CONFIGS), help=f"comma-separated, of: {', '.join(CONFIGS)}"
    )
    parser.add_argument(
        "--ranker", type=Path, help="ranker file of the learned rows (default: the shipped one)"
    )
    parser.add_argument(
        "--highlighter", type=Path, help="learned highlighter file (default: the shipped one)"
    )
    parser.add_argument("--json", type=Path)
    parser.add_argument("--save", type=Path, help="folder to write each configuration's results to")
    parser.add_argument(
        "--baseline", type=Path, help="folder of an earlier run's --save: paired differences to it"
    )
    args = parser.parse_args(argv)
    for path in (args.data_dir / "queries.jsonl", args.data_dir.parent / "score.py"):
        if not path.is_file():  # found before minutes of answering, not after
            parser.error(f"{path} not found")
    names = args.configs.split(",")
    if unknown := [n for n in names if n not in CONFIGS]:
        parser.error(f"unknown configuration(s) {', '.join(unknown)}; known: {', '.join(CONFIGS)}")
    report = run(
        args.data_dir,
        args.index_dir,
        names,
        args.refs,
        args.ranker,
        args.highlighter,
        save=args.save,
        baseline=args.baseline,
    )
    print_report(report)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
