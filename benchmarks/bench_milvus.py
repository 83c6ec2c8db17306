"""The milvus backend (Milvus Lite) against the local backend: quality, query latency, indexing, visibility.

usage: python -m benchmarks.bench_milvus DATA_DIR [--local-index DIR] [--workdir DIR]
                                         [--sections quality indexing visibility related]
                                         [--articles 200] [--rounds 2] [--writes 20]
                                         [--related 300] [--json OUT]

Sections:
  quality     copies the local index of DATA_DIR (built by `python -m benchmarks.quality DATA_DIR`,
              or --local-index) into Milvus Lite with `QAService.migrate` (nothing embedded) and
              scores both with the default settings by the benchmark's score.py; then the in-process
              `ask(k=10)` latency of both, questions interleaved, with the query vectors cached
              (retrieval alone) and cleared (the question embedded too); and the fusion done by
              Milvus (`hybrid_search` with `RRFRanker(60)`) against ours (weighted RRF, in Python).
  indexing    indexes the same ARTICLES articles (evenly spaced over the corpus) into a fresh index
              of each backend with the real encoder, rounds interleaved; passages/s by wall clock
              and by the process's CPU time, and the ratios.
  visibility  WRITES one-article writes into the Milvus Lite copy: how long after `add` returns a
              second service (its own backend object, reload interval 0) reads the article back and
              finds its passage among the dense candidates for its title; and how many of them its
              top 10 hits show.
  related     related articles on both copies (made by quality, or made here): for a seeded sample
              of RELATED articles that answer a question with others (`related_truth`), whether
              both backends show the same 10 articles in the same order, Recall@10 of each, and
              `related(k=10)` latency, articles interleaved, for the default (`learned`) and the
              reference modes.

The machine may be shared: compare figures within one run (ratios). Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from pymilvus import AnnSearchRequest, RRFRanker

from benchmarks.bench_speed import sample_articles
from benchmarks.common import load_queries, paired_bootstrap, per_query_scores
from benchmarks.http_load import percentiles
from benchmarks.quality import INDEX_ROOT, evaluate
from embeddings.articles import Article
from embeddings.backends import Candidates, Filters
from embeddings.backends.local import LocalBackend
from embeddings.backends.milvus.backend import MilvusBackend
from embeddings.backends.milvus.reader import MilvusReader
from embeddings.backends.milvus.schema import COLUMN_FIELDS
from embeddings.encoders import Encoder, load_encoder
from embeddings.errors import ArticleNotFoundError
from embeddings.text import bm25_query_tokens
from qa.evaluation import related_truth
from qa.retrieval import RetrievalConfig
from qa.service import QAService
from qa.settings import Settings

SECTIONS = ("quality", "indexing", "visibility", "related")
METRICS = ("Hits@1", "Hits@5", "Hits@10", "MRR@10", "AnsRec@5", "HiAnsRec@1")


def service(backend: Any, encoder: Encoder, settings: Settings, **options: Any) -> QAService:
    """A service as `open_service` builds it from `settings`, over the given backend and encoder."""
    return QAService(
        backend,
        encoder,
        chunking=settings.chunking(encoder.max_tokens),
        retrieval=settings.retrieval,
        title_context=settings.title_context,
        reload_interval=options.pop("reload_interval", settings.reload_interval),
        **options,
    )


def lite(path: Path, collection: str = "newsqa") -> MilvusBackend:
    return MilvusBackend(path, collection=collection, index_type=Settings().milvus_index)


# --- Milvus fuses: hybrid_search with RRFRanker ------------------------------------------------


class FusedByMilvus:
    """A Milvus reader whose dense list is Milvus's own fusion of the dense and BM25 searches
    (`hybrid_search`, `RRFRanker(k)`), and no lexical list: with `fusion="linear"` and dense weight 1
    the pipeline ranks by Milvus's fused scores."""

    def __init__(self, reader: MilvusReader, rrf_k: int) -> None:
        self.reader, self.rrf_k = reader, rrf_k

    def __getattr__(self, name: str) -> Any:
        return getattr(self.reader, name)

    def candidates(self, vector: np.ndarray, text: str | None, n: int, filters: Filters) -> Candidates:
        r = self.reader
        tokens = bm25_query_tokens(text, r._stemmer) if text is not None else []
        if not tokens:
            return r.candidates(vector, None, n, filters)
        where = r.search_expression(filters)
        requests = [
            AnnSearchRequest([vector.tolist()], "dense", r.dense_index.search_params(n), n, expr=where),
            AnnSearchRequest([" ".join(tokens)], "sparse", {"metric_type": "BM25"}, n, expr=where),
        ]
        found = r.client.hybrid_search(
            r.names.passages,
            requests,
            ranker=RRFRanker(self.rrf_k),
            limit=n,
            output_fields=COLUMN_FIELDS,
            consistency_level=r.consistency,
        )
        hits = list(found[0]) if found else []
        r.keep_columns(hits)
        ids = np.array([int(h["id"]) for h in hits], dtype=np.int64)
        scores = np.array([float(h["distance"]) for h in hits], dtype=np.float32)
        return Candidates(ids, scores, np.empty(0, np.int64), np.empty(0, np.float32))


class FusingBackend:
    """The backend, opening readers that let Milvus fuse (`FusedByMilvus`)."""

    def __init__(self, backend: MilvusBackend, rrf_k: int) -> None:
        self.backend, self.rrf_k = backend, rrf_k

    def __getattr__(self, name: str) -> Any:
        return getattr(self.backend, name)

    def open(self, encoder: str | None = None) -> FusedByMilvus:
        return FusedByMilvus(self.backend.open(encoder), self.rrf_k)


# --- sections ----------------------------------------------------------------------------------


def copies(
    args: argparse.Namespace, encoder: Encoder, settings: Settings
) -> tuple[QAService, QAService, float | None]:
    """Services over a copy of the local index and over its Milvus Lite copy in the workdir (made
    by `QAService.migrate` unless one of the same size is there), and the seconds migrating took."""
    local_copy = args.workdir / "local"
    if not local_copy.exists():
        shutil.copytree(args.local_index, local_copy)
    local = service(LocalBackend(local_copy), encoder, settings)
    milvus = service(lite(args.workdir / "copy.db"), encoder, settings)
    passages, migrate_s = local.stats()["passages"], None
    if milvus.exists() and milvus.stats()["passages"] == passages and not args.copy_again:
        print(f"  reusing the Milvus copy in {args.workdir} ({passages} passages)")
    else:
        started = time.perf_counter()
        milvus.migrate(local.backend)
        migrate_s = time.perf_counter() - started
        print(f"  migrate: {passages} passages in {migrate_s:.1f}s ({passages / migrate_s:.0f}/s)")
        args.copy_again = False  # a later section reuses this copy
    return local, milvus, migrate_s


def section_quality(args: argparse.Namespace, encoder: Encoder, report: dict[str, Any]) -> None:
    settings = Settings()
    local, milvus, migrate_s = copies(args, encoder, settings)
    milvus_backend, passages = milvus.backend, local.stats()["passages"]
    default = settings.retrieval
    fused = service(FusingBackend(milvus_backend, default.rrf_k), encoder, settings)
    milvus_rrf = default.model_copy(update={"fusion": "linear", "dense_weight": 1.0})
    runs = {
        "local": (local, default),
        "milvus": (milvus, default),
        "milvus, Milvus fuses": (fused, milvus_rrf),
    }
    rows: dict[str, dict[str, Any]] = {}
    kept: dict[str, list[dict[str, Any]]] = {}
    for name, (qa, config) in runs.items():
        kept[name] = []
        metrics, _ = evaluate(qa, args.data_dir, config, keep=kept[name])
        rows[name] = metrics
    queries = args.data_dir / "queries.jsonl"
    scores = {name: per_query_scores(queries, results) for name, results in kept.items()}
    differences = {}
    for name in ("milvus", "milvus, Milvus fuses"):
        differences[name] = {}
        for metric in ("Hits@5", "Hits@10", "MRR@10"):
            low, high, _ = paired_bootstrap(scores[name][metric], scores["local"][metric])
            diff = float(np.mean(scores[name][metric] - scores["local"][metric]))
            differences[name][metric] = {
                "difference": round(diff, 4),
                "ci95": [round(low, 4), round(high, 4)],
            }
    print(f"  {'backend':24}" + "".join(f"{m:>11}" for m in METRICS))
    for name, m in rows.items():
        print(f"  {name:24}" + "".join(f"{m.get(k, float('nan')):>11.4f}" for k in METRICS))
    for name, diffs in differences.items():
        text = ", ".join(
            f"{k} {d['difference']:+.4f} [{d['ci95'][0]:+.3f}, {d['ci95'][1]:+.3f}]" for k, d in diffs.items()
        )
        print(f"  {name} - local: {text}")
    latency = timed(runs, [json.loads(line)["question"] for line in queries.open() if line.strip()])
    for name, rows_ms in latency.items():
        print(f"  {name:34} p50 {rows_ms['p50']:7.2f}  p95 {rows_ms['p95']:7.2f} ms")
    report["quality"] = {"migrate_s": migrate_s, "passages": passages, "metrics": rows}
    report["quality"] |= {"differences": differences, "latency_ms": latency}


def timed(runs: dict[str, tuple[QAService, RetrievalConfig]], questions: Sequence[str]) -> dict[str, Any]:
    """`ask(k=10)` ms of each service, questions interleaved: with the question vectors cached
    (retrieval alone), then cleared before each ask (embedding included)."""
    out: dict[str, Any] = {}
    for qa, config in runs.values():
        qa.retrieval = config
        qa.prepare(list(questions))
        for question in questions[:5]:  # warm-up: readers open, lazy initialisation
            qa.ask(question, 10)
    for cold in (False, True):
        times: dict[str, list[float]] = {name: [] for name in runs}
        for question in questions:
            for name, (qa, _) in runs.items():
                if cold:
                    qa.queries.clear()
                started = time.perf_counter()
                qa.ask(question, 10)
                times[name].append((time.perf_counter() - started) * 1000)
        for name, ms in times.items():
            out[f"{name}, {'question embedded' if cold else 'vector cached'}"] = percentiles(ms)
    return out


def section_indexing(args: argparse.Namespace, encoder: Encoder, report: dict[str, Any]) -> None:
    """Passages/s of each backend over the same articles, by wall clock and by this process's CPU
    time (every thread: the encoder's, and Milvus Lite's engine, which runs in this process). On a
    shared machine the CPU figure moves less with other jobs' load. A Milvus Lite run is timed until
    its engine has closed, so the vector index it builds in the background after a flush counts."""
    settings = Settings()
    articles = sample_articles(args.data_dir, args.articles)
    rates: dict[str, dict[str, list[float]]] = {
        "wall": {"local": [], "milvus": []},
        "cpu": {"local": [], "milvus": []},
    }
    passages = 0
    for round_ in range(args.rounds):
        for name in ("local", "milvus") if round_ % 2 == 0 else ("milvus", "local"):
            root = args.workdir / f"indexing-{name}-{round_}"
            shutil.rmtree(root, ignore_errors=True)
            backend = LocalBackend(root) if name == "local" else lite(root / "milvus.db")
            qa = service(backend, encoder, settings)
            wall, cpu = time.perf_counter(), time.process_time()
            passages = qa.add(articles).passages_embedded
            if isinstance(backend, MilvusBackend):
                backend.close()
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            rates["wall"][name].append(passages / wall)
            rates["cpu"][name].append(passages / cpu)
            print(
                f"  round {round_} {name:6} {passages} passages: {wall:6.1f}s wall, {passages / wall:6.1f}/s;"
                f" {cpu:6.1f}s CPU, {passages / cpu:6.1f}/CPU-s (load {os.getloadavg()[0]:.1f})"
            )
            shutil.rmtree(root, ignore_errors=True)
    ratios = {
        clock: [m / loc for m, loc in zip(r["milvus"], r["local"], strict=True)] for clock, r in rates.items()
    }
    for clock, values in ratios.items():
        print(
            f"  milvus / local, {clock}: {', '.join(f'{r:.3f}' for r in values)};"
            f" median {statistics.median(values):.3f}"
        )
    report["indexing"] = {"articles": len(articles), "passages": passages, "rates": rates, "ratios": ratios}


def section_visibility(args: argparse.Namespace, encoder: Encoder, report: dict[str, Any]) -> None:
    """After each write returns, a second service polls until the article's row reads back and its
    passage is among the dense candidates of a search for its title: that delay is what the
    consistency level decides. Whether the article also makes the top 10 hits is counted apart:
    that is ranking (Milvus Lite scores BM25 per segment, so a new small segment ranks low)."""
    settings = Settings()
    path = args.workdir / "copy.db"
    if not path.exists():
        print("  no Milvus copy: run the quality section first; skipped")
        return
    writer = service(lite(path), encoder, settings)
    reader = service(lite(path), encoder, settings, reload_interval=0.0)
    delays, writes, in_hits, polls = [], [], 0, 0
    for n in range(args.writes):
        title = f"Harbour authority orders {n} electric cranes zq{n}x"
        body = f"{title}. The order was signed on Monday. " * 5
        article = Article(f"bench-visibility-{n}", title, body, dt.date(2024, 3, 30), "Wire")
        started = time.perf_counter()
        writer.add([article])
        written = time.perf_counter()
        while not visible(reader, article):
            polls += 1
            if time.perf_counter() - written > 30:
                raise RuntimeError(f"{article.id} not visible 30 s after its write")
        delays.append((time.perf_counter() - written) * 1000)
        writes.append((written - started) * 1000)
        in_hits += article.id in {h.article_id for h in reader.search(title, k=10)}
    writer.delete([f"bench-visibility-{n}" for n in range(args.writes)])
    found, took = percentiles(delays), percentiles(writes)
    print(
        f"  one-article write: p50 {took['p50']:.0f} ms; visible to another service: p50"
        f" {found['p50']:.1f} ms, max {max(delays):.1f} ms (its reads included), {polls} polls missed;"
        f" in the top 10 hits for its title: {in_hits}/{args.writes}"
    )
    report["visibility"] = {
        "writes_ms": took,
        "visible_after_ms": found,
        "max_ms": max(delays),
        "missed_polls": polls,
        "in_top_10": in_hits,
        "writes": args.writes,
    }


RELATED_MODES = ("learned", "dense", "lexical")
K_RELATED = 10


def section_related(args: argparse.Namespace, encoder: Encoder, report: dict[str, Any]) -> None:
    """`related(k=10)` on both copies: the same answers (the 10 shown articles, in order), Recall@10
    with the listed copies counted, and latency, articles interleaved, per mode."""
    settings = Settings()
    local, milvus, _ = copies(args, encoder, settings)
    truth = related_truth(load_queries(args.data_dir))
    present = [a for a in sorted(truth) if local.reader().article(a) is not None]
    rng = np.random.default_rng(0)
    sample = sorted(rng.choice(present, size=min(args.related, len(present)), replace=False).tolist())
    print(f"  {len(sample)} of the {len(present)} indexed articles that have related ones (seed 0)")
    out: dict[str, Any] = {"articles": len(sample)}
    for mode in RELATED_MODES:
        config = settings.retrieval.model_copy(update={"related": mode})
        ms: dict[str, list[float]] = {"local": [], "milvus": []}
        recall: dict[str, list[float]] = {"local": [], "milvus": []}
        same = 0
        for qa in (local, milvus):
            qa.retrieval = config
            for article in sample[:5]:  # warm-up: readers open, lazy columns
                qa.related(article, K_RELATED)
        for n, article in enumerate(sample):
            shown: dict[str, list[str]] = {}
            for name, qa in (("local", local), ("milvus", milvus))[:: 1 if n % 2 == 0 else -1]:
                started = time.perf_counter()
                try:
                    found = qa.related(article, K_RELATED)
                except ArticleNotFoundError:
                    found = []
                ms[name].append((time.perf_counter() - started) * 1000)
                shown[name] = [r.article_id for r in found]
                listed = set(shown[name]) | {c.article_id for r in found for c in r.copies}
                recall[name].append(len(listed & truth[article]) / len(truth[article]))
            same += shown["local"] == shown["milvus"]
        row = {
            "same_answers": same,
            "recall@10": {name: float(np.mean(values)) for name, values in recall.items()},
            "latency_ms": {name: percentiles(values) for name, values in ms.items()},
        }
        row["p50_ratio"] = row["latency_ms"]["milvus"]["p50"] / row["latency_ms"]["local"]["p50"]
        out[mode] = row
        lat = row["latency_ms"]
        print(
            f"  {mode:8} same 10 in the same order {same}/{len(sample)};"
            f" Recall@10 local {row['recall@10']['local']:.4f} milvus {row['recall@10']['milvus']:.4f};"
            f" p50 local {lat['local']['p50']:.1f} ms, milvus {lat['milvus']['p50']:.1f} ms"
            f" (x{row['p50_ratio']:.1f}); p95 {lat['local']['p95']:.1f} / {lat['milvus']['p95']:.1f} ms",
            flush=True,
        )
    report["related"] = out


def visible(qa: QAService, article: Article) -> bool:
    """Whether `qa`'s next snapshot holds the article and a dense search for its title finds it."""
    reader = qa.reader()
    ids = set(reader.article_passages(article.id).tolist())
    if reader.article(article.id) is None or not ids:
        return False
    found = reader.candidates(qa.queries.vector(article.title), None, 10, Filters())
    return bool(ids & set(found.dense_ids.tolist()))


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("data_dir", type=Path)
    parser.add_argument(
        "--local-index", type=Path, help="local index of DATA_DIR (default: benchmarks.quality's)"
    )
    parser.add_argument("--workdir", type=Path, help="keep the copies here (default: a temporary directory)")
    parser.add_argument("--sections", nargs="+", choices=SECTIONS, default=list(SECTIONS))
    parser.add_argument(
        "--articles", type=int, default=200, help="indexing: articles indexed by each backend"
    )
    parser.add_argument("--rounds", type=int, default=2, help="indexing: interleaved rounds")
    parser.add_argument("--writes", type=int, default=20, help="visibility: one-article writes")
    parser.add_argument("--copy-again", action="store_true", help="quality: migrate again into the workdir")
    parser.add_argument("--related", type=int, default=300, help="related: articles asked about")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    args.local_index = (
        args.local_index or INDEX_ROOT / f"{args.data_dir.resolve().name}-{Settings().encoder}-title"
    )
    keep = args.workdir is not None
    args.workdir = args.workdir or Path(tempfile.mkdtemp(prefix="bench-milvus-"))
    args.workdir.mkdir(parents=True, exist_ok=True)
    settings = Settings()
    encoder = load_encoder(settings.model_dir, settings.encoder, batch_size=settings.batch_size)
    print(
        f"bench_milvus {dt.datetime.now().isoformat(timespec='seconds')}: encoder {encoder.identity},"
        f" {len(os.sched_getaffinity(0))} CPUs, load avg {', '.join(f'{x:.1f}' for x in os.getloadavg())}"
    )
    report: dict[str, Any] = {}
    steps = {
        "quality": section_quality,
        "indexing": section_indexing,
        "visibility": section_visibility,
        "related": section_related,
    }
    for name in args.sections:
        print(f"\n{name} (load avg {os.getloadavg()[0]:.1f})", flush=True)
        started = time.perf_counter()
        steps[name](args, encoder, report)
        print(f"  ({time.perf_counter() - started:.0f}s)", flush=True)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2, default=str) + "\n")
    if not keep:
        shutil.rmtree(args.workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
