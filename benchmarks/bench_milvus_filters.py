"""Dense search under restrictive filters on Milvus Lite (HNSW): recall against exact search and
latency, through the index alone (the reader before exact scoring) and by the default reader.

usage: python -m benchmarks.bench_milvus_filters [--articles 3000] [--per-article 10] [--days 1000]
                                                 [--keep 0.001 0.01 0.1 0.5] [--queries 50]
                                                 [--n 10 100] [--workdir DIR] [--json OUT]

A synthetic archive, no model and no data: ARTICLES articles of PER_ARTICLE passages, their vectors
`bench_scale.clustered_vectors` (384 numbers, structured like sentence embeddings, seed 0), their
words drawn from a Zipf vocabulary, dated evenly over DAYS days, written into Milvus Lite with the
default dense index (HNSW) and reopened so that the index is built (made once per WORKDIR).

For each share of the passages a date window keeps (KEEP; 0 is no filter at all), QUERIES held-out
vectors of the same mixture, each with a window of its own (seeded: a new filter per question, as
`--as-of-from-date` asks): `candidates` (dense only) through the index alone
(`exact_filter_limit=0`) with the ef of an unfiltered search ("index") and with the larger ef of a
filtered one ("index ef", `schema.FILTERED_EF`), and by the default reader (exact when the filter
keeps at most `EXACT_FILTER_LIMIT` passages), the three alternating which runs first; recall@n of each against
numpy's exact top n over the window's passages; p50 latency of each and their ratio, and of the
default reader asked again under the same filter (the passages it admits are kept per reader: only
their vectors are read again, or only the search runs). Last, the BM25
side: whether a filtered lexical search returns the passages an unfiltered one ranks first among the
window's (its own statistics are the whole index's either way).

The machine may be shared: read the ratios. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import tempfile
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.bench_scale import clustered_vectors
from benchmarks.http_load import percentiles
from embeddings.articles import Article
from embeddings.backends import ArticleWrite, Filters, IndexSpec, PassageDraft
from embeddings.backends.milvus.backend import MilvusBackend
from embeddings.backends.milvus.log import LIMIT
from embeddings.backends.milvus.reader import EXACT_FILTER_LIMIT, MilvusReader
from embeddings.backends.milvus.schema import FILTERED_EF

DIM = 384
DAY0 = dt.date(2020, 1, 1)
VOCABULARY = 5_000
WORDS = (20, 40)  # words per passage, at least and at most
SPEC = IndexSpec("synthetic-clustered@0", DIM, {"title_context": False})


def corpus(articles: int, per_article: int, queries: int) -> tuple[np.ndarray, np.ndarray]:
    """`(articles * per_article, DIM)` passage vectors and `(queries, DIM)` held-out query vectors."""
    drawn = clustered_vectors(articles * per_article + queries, DIM, seed=0)
    return drawn[: articles * per_article], drawn[articles * per_article :]


def words(rng: np.random.Generator, count: int) -> list[str]:
    """`count` words of a Zipf-distributed vocabulary of `VOCABULARY` pseudo-words."""
    ranks = np.minimum(rng.zipf(1.2, count), VOCABULARY)
    return [f"w{r}" for r in ranks.tolist()]


def build(uri: Path, vectors: np.ndarray, articles: int, per_article: int, days: int) -> None:
    """Write the archive (article `a` dated `DAY0 + a % days`) in one commit, then close, so that
    Milvus Lite builds the dense index of the flushed segment (it searches it exactly until then)."""
    rng = np.random.default_rng(0)
    backend = MilvusBackend(uri, collection="filters")
    started = time.perf_counter()
    try:
        with backend.writer(timeout=10):
            txn = backend.begin(SPEC, fresh=True)
            batch: list[ArticleWrite] = []
            for a in range(articles):
                lengths = rng.integers(WORDS[0], WORDS[1] + 1, per_article).tolist()
                passages = [" ".join(words(rng, length)) + "." for length in lengths]
                drafts, start = [], 0
                for p, text in enumerate(passages):
                    drafts.append(PassageDraft(p, start, start + len(text), f"t:{a}:{p}", f"e:{a}:{p}"))
                    start += len(text) + 1
                day = DAY0 + dt.timedelta(days=a % days)
                article = Article(f"a{a:06d}", f"Article {a}", " ".join(passages), day, "Wire")
                rows = vectors[a * per_article : (a + 1) * per_article]
                batch.append(ArticleWrite(article, f"c:{a}", drafts, rows))
                if len(batch) == 500:
                    txn.put(batch)
                    batch = []
            txn.put(batch)
            txn.commit()
    finally:
        backend.close()  # waits for the index build
    print(f"  built {articles * per_article} passages in {time.perf_counter() - started:.0f}s")


def passage_ids(reader: MilvusReader, articles: int) -> list[np.ndarray]:
    """Each article's passage ids, in position order (row `p` of its vectors)."""
    names = [f"a{a:06d}" for a in range(articles)]
    found = reader.articles_passages(names)
    return [found[name] for name in names]


def exact_top(ids: np.ndarray, vectors: np.ndarray, query: np.ndarray, n: int) -> set[int]:
    """The ids of the `n` best of `vectors` `(len(ids), DIM)` by inner product with `query`."""
    scores = vectors @ query
    return set(ids[np.argsort(-scores, kind="stable")[:n]].tolist())


def timed(
    reader: MilvusReader,
    limit: int,
    query: np.ndarray,
    n: int,
    filters: Filters,
    *,
    cold: bool,
    filtered_ef: int = FILTERED_EF,
) -> tuple[set[int], float]:
    """The dense candidates' ids and ms of `candidates` with `exact_filter_limit` = `limit` and
    HNSW's least ef under a filter `filtered_ef` (0: as unfiltered, the reader before 7 December,
    session 20); `cold`: with the reader's filters forgotten (other questions may have asked for
    the same window)."""
    reader.exact_filter_limit = limit
    reader.dense_index = replace(reader.dense_index, filtered_ef=filtered_ef)
    if cold:
        reader._admissions.clear()
    started = time.perf_counter()
    found = reader.candidates(query, None, n, filters)
    return set(found.dense_ids.tolist()), (time.perf_counter() - started) * 1000


def measure(
    reader: MilvusReader,
    vectors: np.ndarray,
    ids: list[np.ndarray],
    queries: np.ndarray,
    keep: float,
    days: int,
    n: int,
) -> dict[str, Any]:
    """Recall@n and latency of both paths for windows keeping `keep` of the days (0: no filter)."""
    per_article = len(ids[0])
    width = max(1, round(keep * days))
    rng = np.random.default_rng(1)
    recall: dict[str, list[float]] = {"index": [], "index ef": [], "default": []}
    ms: dict[str, list[float]] = {"index": [], "index ef": [], "default": [], "repeated": []}
    kept = []
    for q, query in enumerate(queries):
        if keep:
            first = int(rng.integers(0, days - width + 1))
            filters = Filters(
                since=DAY0 + dt.timedelta(days=first), until=DAY0 + dt.timedelta(days=first + width - 1)
            )
            articles = [a for a in range(len(ids)) if first <= a % days < first + width]
        else:
            filters, articles = Filters(), list(range(len(ids)))
        window_ids = np.concatenate([ids[a] for a in articles])
        window_vectors = np.concatenate([vectors[a * per_article : (a + 1) * per_article] for a in articles])
        truth = exact_top(window_ids, window_vectors, query, n)
        kept.append(len(window_ids))
        runs = (("index", 0, 0), ("index ef", 0, FILTERED_EF), ("default", EXACT_FILTER_LIMIT, FILTERED_EF))
        for name, limit, ef in runs if q % 2 == 0 else runs[::-1]:
            found, took = timed(reader, limit, query, n, filters, cold=limit > 0, filtered_ef=ef)
            recall[name].append(len(found & truth) / len(truth))
            ms[name].append(took)
        ms["repeated"].append(timed(reader, EXACT_FILTER_LIMIT, query, n, filters, cold=False)[1])
    reader.exact_filter_limit = EXACT_FILTER_LIMIT
    row = {
        "keep": keep,
        "passages_kept": float(np.median(kept)),
        "recall": {name: float(np.mean(values)) for name, values in recall.items()},
        "latency_ms": {name: percentiles(values) for name, values in ms.items()},
    }
    p50 = {name: values["p50"] for name, values in row["latency_ms"].items()}
    row["p50_ratio"] = p50["default"] / p50["index"]
    row["p50_ratio_index_ef"] = p50["index ef"] / p50["index"]
    row["p50_ratio_repeated"] = p50["repeated"] / p50["index"]
    return row


def source_counts(reader: MilvusReader, queries: np.ndarray, n: int) -> dict[str, Any]:
    """p50 of `candidates` under a source filter that admits every passage (the archive is all
    "Wire"), with nothing kept from earlier questions: by the commit's passages per source (no
    query of ids) against the same commit without them (the query of 1,001 ids first), the two
    alternating which runs first."""
    counted, blind = (
        reader.snapshot,
        replace(reader.snapshot, commit=replace(reader.snapshot.commit, source_passages=None)),
    )
    filters = Filters(sources=("Wire",))
    ms: dict[str, list[float]] = {"counted": [], "asked": []}
    for q, query in enumerate(queries):
        runs = (("counted", counted), ("asked", blind))
        for name, snapshot in runs if q % 2 == 0 else runs[::-1]:
            reader.snapshot = snapshot
            ms[name].append(timed(reader, EXACT_FILTER_LIMIT, query, n, filters, cold=True)[1])
    reader.snapshot = counted
    out: dict[str, Any] = {name: percentiles(values) for name, values in ms.items()}
    out["ratio"] = out["counted"]["p50"] / out["asked"]["p50"]
    return out


def lexical_check(reader: MilvusReader, days: int, count: int, n: int) -> dict[str, Any]:
    """Whether a BM25 search filtered to a window of 1 % of the days scores its top `n` as the
    window's best `n` of an unfiltered search over every match (compared by score: equal scores are
    common among passages of equal length); `count` two-word queries of mid-frequency words."""
    rng = np.random.default_rng(2)
    width = max(1, days // 100)
    same = asked = 0
    for _ in range(count):
        text = " ".join(f"w{r}" for r in rng.integers(100, 1_000, 2).tolist())
        first = int(rng.integers(0, days - width + 1))
        window = Filters(
            since=DAY0 + dt.timedelta(days=first), until=DAY0 + dt.timedelta(days=first + width - 1)
        )
        everything = bm25(reader, text, LIMIT, Filters())
        if len(everything) >= LIMIT:
            continue  # not every match: the window's best may be missing from it
        in_window = [score for day, score in everything if window.admits(dt.date.fromordinal(day), "Wire")]
        found = [score for _, score in bm25(reader, text, n, window)]
        asked += 1
        same += np.allclose(found, in_window[:n], rtol=1e-5)
    return {"queries": asked, "same": same}


def bm25(reader: MilvusReader, text: str, n: int, filters: Filters) -> list[tuple[int, float]]:
    """`(day, score)` of the `n` best passages of a BM25 search for `text` under `filters`."""
    found = reader.client.search(
        reader.names.passages,
        data=[text],
        anns_field="sparse",
        limit=n,
        filter=reader.search_expression(filters),
        output_fields=["day"],
        search_params={"metric_type": "BM25"},
    )
    hits = [(int(h["entity"]["day"]), abs(float(h["distance"]))) for h in (found[0] if found else [])]
    return sorted(hits, key=lambda hit: -hit[1])


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--articles", type=int, default=3_000)
    parser.add_argument("--per-article", type=int, default=10)
    parser.add_argument("--days", type=int, default=1_000, help="the archive's dates span this many days")
    parser.add_argument("--keep", type=float, nargs="+", default=[0.001, 0.01, 0.1, 0.5, 0.0])
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--n", type=int, nargs="+", default=[10, 100], help="candidates asked for")
    parser.add_argument("--lexical", type=int, default=30, help="BM25 check: queries")
    parser.add_argument("--workdir", type=Path, help="keep the index here (default: a temporary directory)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="bench-milvus-filters-"))
    uri = workdir / f"filters-{args.articles}x{args.per_article}-{args.days}d.db"
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"bench_milvus_filters {dt.datetime.now().isoformat(timespec='seconds')}:"
        f" {len(os.sched_getaffinity(0))} CPUs, load avg {load}; exact_filter_limit {EXACT_FILTER_LIMIT}"
    )
    vectors, queries = corpus(args.articles, args.per_article, args.queries)
    if not uri.exists():
        build(uri, vectors, args.articles, args.per_article, args.days)
    backend = MilvusBackend(uri, collection="filters")
    report: dict[str, Any] = {
        "passages": len(vectors),
        "days": args.days,
        "limit": EXACT_FILTER_LIMIT,
        "rows": [],
    }
    try:
        reader = backend.open()
        ids = passage_ids(reader, args.articles)
        print(f"  {reader.info.passages} passages, {reader.dense_index.type}, {args.queries} queries a row")
        print(
            f"  {'n':>4} {'keeps':>7} {'passages':>9} {'recall index':>13} {'index ef':>9} {'default':>8}"
            f" {'p50 index':>10} {'index ef':>10} {'ratio':>6} {'default':>10} {'ratio':>6}"
            f" {'repeated':>10} {'ratio':>6}"
        )
        for n in args.n:
            for keep in args.keep:
                row = measure(reader, vectors, ids, queries, keep, args.days, n)
                report["rows"].append({"n": n, **row})
                lat = row["latency_ms"]
                print(
                    f"  {n:>4} {'all' if not keep else f'{keep:.1%}':>7} {row['passages_kept']:>9.0f}"
                    f" {row['recall']['index']:>13.3f} {row['recall']['index ef']:>9.3f}"
                    f" {row['recall']['default']:>8.3f}"
                    f" {lat['index']['p50']:>8.1f}ms {lat['index ef']['p50']:>8.1f}ms"
                    f" {row['p50_ratio_index_ef']:>6.2f} {lat['default']['p50']:>8.1f}ms"
                    f" {row['p50_ratio']:>6.2f} {lat['repeated']['p50']:>8.1f}ms"
                    f" {row['p50_ratio_repeated']:>6.2f}",
                    flush=True,
                )
        counted = source_counts(reader, queries, 100)
        report["source_filter"] = counted
        print(
            "  a source filter admitting every passage, n=100, cold: p50"
            f" {counted['asked']['p50']:.1f} ms asking for ids (a commit without passages per source),"
            f" {counted['counted']['p50']:.1f} ms counted ({counted['ratio']:.2f})"
        )
        lexical = lexical_check(reader, args.days, args.lexical, 10)
        report["lexical"] = lexical
        print(
            f"  BM25 under a 1 % window: {lexical['same']}/{lexical['queries']} filtered top 10 equal the"
            " unfiltered ranking restricted to the window"
        )
    finally:
        backend.close()
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
