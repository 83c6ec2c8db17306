"""Writes into a large archive: how one article's write grows with the archive, and where it goes.

Every write publishes a new version of the whole index, so its cost grows with the archive (see
docs/BENCHMARKS.md, "Writes into a large index"). This measures that growth on the write path
alone. A hash encoder stands in for the model: real text, random unit vectors of the model's
size, tokens counted per word and symbol. That way an archive of hundreds of thousands of
passages builds in minutes. Articles are the benchmark corpus's, repeated under new ids until
the archive holds the passages asked for.

    PYTHONPATH=. python -m benchmarks.bench_writes DATA_DIR --passages 100000 300000 [--workdir DIR]

For each size, it times a few one-article writes through `QAService.add` and profiles the last
one. The stages printed are the copy of the live version, the BM25 rebuild and save, the
per-passage column files, the vector store's save, the SQLite commit and the fsync of the new
version. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import cProfile
import dataclasses
import datetime as dt
import pstats
import re
import shutil
import tempfile
import time
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from embeddings.articles import Article
from embeddings.readers import iter_articles
from qa.service import QAService

DIM = 384  # all-MiniLM-L6-v2's
MAX_TOKENS = 256
_TOKEN = re.compile(r"\w+|[^\w\s]")

# (label, source file suffix, function name): cumulative time of these in the profiled write
STAGES = [
    ("copy the live version", "embeddings/backends/local/backend.py", "begin"),
    ("BM25 rebuild", "embeddings/backends/local/lexical.py", "updated"),
    ("BM25 save", "embeddings/backends/local/lexical.py", "save"),
    ("per-passage column files", "embeddings/backends/local/columns.py", "write"),
    ("vector store save", "embeddings/backends/local/stores/faiss_store.py", "save"),
    ("SQLite commit", "embeddings/backends/local/rows.py", "commit"),
    ("fsync of the new version", "embeddings/backends/local/versions.py", "_fsync_tree"),
]


class HashEncoder:
    """An `Encoder` without a model: a random unit vector per text, seeded by the text."""

    identity = "hash@0:bench-writes"
    dim = DIM
    max_tokens = MAX_TOKENS

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return [len(_TOKEN.findall(t)) for t in texts]

    def encode_documents(self, texts: Sequence[str]) -> np.ndarray:
        out = np.empty((len(texts), DIM), np.float32)
        for row, text in enumerate(texts):
            out[row] = np.random.default_rng(zlib.crc32(text.encode())).standard_normal(DIM)
        return out / np.linalg.norm(out, axis=1, keepdims=True)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.encode_documents(texts)


def repeated(corpus: list[Article], start: int) -> Iterator[Article]:
    """The corpus again and again under new ids (`r{round}-{id}`), from round `start` on.

    Repeated texts are embedded once (the index reuses the vector of an identical embedded
    text), so growing costs little encoding; every passage still gets its rows, BM25 tokens and
    vector, as new text would.
    """
    for round_no in range(start, 1_000_000):
        for article in corpus:
            yield dataclasses.replace(article, id=f"r{round_no}-{article.id}")


def counts(qa: QAService) -> tuple[int, int]:
    """Articles and passages in the archive (0, 0 before its first write)."""
    if not qa.exists():
        return 0, 0
    stats = qa.stats()
    return int(stats["articles"]), int(stats["passages"])  # type: ignore[call-overload]


def grow(qa: QAService, articles: Iterator[Article], passages: int, batch: int) -> None:
    """Add `batch` articles per write until the archive holds `passages`."""
    while counts(qa)[1] < passages:
        started = time.perf_counter()
        report = qa.add(next(articles) for _ in range(batch))
        print(
            f"  grew to {counts(qa)[1]:,} passages (+{report.passages_embedded:,})"
            f" in {time.perf_counter() - started:.1f} s",
            flush=True,
        )


def one_article(n: int) -> Article:
    """A new article (a new id each call, even across runs over the same `--workdir`)."""
    body = f"The harbour installed {n} new cranes on Monday, the port authority said. " * 20
    article_id = f"bench-write-{time.time_ns()}"
    return Article(article_id, f"Harbour cranes {n}", body, dt.date(2024, 3, 30), "Wire", None)


def profiled_write(qa: QAService, article: Article) -> tuple[float, dict[str, float]]:
    """Seconds of one write and the cumulative seconds of each of `STAGES` within it."""
    profile = cProfile.Profile()
    started = time.perf_counter()
    profile.enable()
    qa.add([article])
    profile.disable()
    total = time.perf_counter() - started
    stats = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    stages = {}
    for label, suffix, name in STAGES:
        stages[label] = sum(
            row[3] for (path, _, func), row in stats.items() if func == name and path.endswith(suffix)
        )
    return total, stages


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", type=Path, help="a benchmark directory with corpus.jsonl")
    parser.add_argument("--passages", type=int, nargs="+", default=[100_000, 300_000])
    parser.add_argument("--batch", type=int, default=2_000, help="articles per write while growing")
    parser.add_argument("--writes", type=int, default=3, help="one-article writes timed per size")
    parser.add_argument("--workdir", type=Path, default=None, help="keep the index here (reused)")
    args = parser.parse_args(argv)

    corpus = list(iter_articles([args.data_dir / "corpus.jsonl"]))
    work = args.workdir or Path(tempfile.mkdtemp(prefix="bench-writes-"))
    try:
        qa = QAService(work / "index", HashEncoder(), lock_timeout=600.0)
        more = repeated(corpus, start=counts(qa)[0] // max(len(corpus), 1) + 1)
        for size in sorted(args.passages):
            grow(qa, more, size, args.batch)
            articles, passages = counts(qa)
            print(f"\n{passages:,} passages, {articles:,} articles", flush=True)
            writes: list[float] = []
            for i in range(args.writes - 1):
                started = time.perf_counter()
                qa.add([one_article(size * 10 + i)])
                writes.append(time.perf_counter() - started)
            total, stages = profiled_write(qa, one_article(size * 10 + args.writes))
            writes.append(total)
            print(f"  one-article writes: {', '.join(f'{s:.2f}' for s in writes)} s (last one profiled)")
            for label, seconds in stages.items():
                print(f"    {label:28} {seconds:6.2f} s")
            print(f"    {'everything else':28} {total - sum(stages.values()):6.2f} s", flush=True)
    finally:
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
