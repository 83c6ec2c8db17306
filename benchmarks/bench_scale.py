"""Scale benchmark: build, memory, latency and recall of the FAISS store at a million passages.

Vectors are synthetic but structured like sentence embeddings (unit vectors around a few
thousand cluster centres drawn from a few hundred topics, a decaying variance spectrum, a shared
offset and a random rotation); the metadata is real: a SQLite `MetadataStore` with one row per
passage and articles of news-like length. Queries are 1,000 held-out draws from the same mixture.

    python benchmarks/bench_scale.py                 # 1,000,000 passages (about 10 minutes, 2 cores)
    python benchmarks/bench_scale.py --passages 200000 --articles 20000

    python benchmarks/bench_scale.py --k 100 --k-exponents 0.5 0.25   # compare nprobe growth with k

Prints figures; asserts nothing. Query times are single queries (k=10 unless --k) with FAISS on
one thread, each including the `MetadataStore.passages` lookup of its hits.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import gc
import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import faiss
import numpy as np

from embeddings.articles import Article
from embeddings.backends.local.rows import MetadataStore, NewPassage
from embeddings.backends.local.stores import create_store, faiss_ivf, load_store
from embeddings.backends.local.stores.faiss_store import FILENAME, FaissStore

DIM = 384
K = 10


# --- data ----------------------------------------------------------------------------------


def clustered_vectors(n: int, dim: int, seed: int = 0, topics: int = 200, centres: int = 4_000) -> np.ndarray:
    """`(n, dim)` float32 unit vectors from a two-level Gaussian mixture (topics, then centres).

    Centres have Pareto-distributed weights (a few big stories, a long tail); every level uses a
    power-law variance spectrum and the whole space is rotated, so no axis is special.
    """
    rng = np.random.default_rng(seed)
    spectrum = (np.arange(dim) + 1.0) ** -0.5
    scale = np.sqrt(spectrum / spectrum.mean()).astype(np.float32)
    rotation = np.linalg.qr(rng.standard_normal((dim, dim)))[0].astype(np.float32)
    topic = rng.standard_normal((topics, dim)).astype(np.float32) * scale
    centre = topic[rng.integers(0, topics, centres)]
    centre += 0.8 * rng.standard_normal((centres, dim)).astype(np.float32) * scale
    weight = rng.pareto(1.5, centres) + 1.0
    weight /= weight.sum()
    offset = rng.standard_normal(dim).astype(np.float32) * scale
    offset *= 0.3 * np.sqrt(dim) / np.linalg.norm(offset)
    out = np.empty((n, dim), np.float32)
    for start in range(0, n, 100_000):
        m = min(100_000, n - start)
        x = centre[rng.choice(centres, m, p=weight)]
        x += rng.standard_normal((m, dim)).astype(np.float32) * scale + offset
        x = x @ rotation
        faiss.normalize_L2(x)
        out[start : start + m] = x
    return out


def build_metadata(path: Path, articles: int, passages_per_article: int, seed: int = 0) -> None:
    """A metadata store of `articles` news-length articles, each cut into overlapping passages.

    Article text is about 7,000 characters (10 passages of ~900 characters that overlap by ~200,
    like the default 200-token chunks); passage ids run 0.. in article order.
    """
    rng = np.random.default_rng(seed)
    words = ["".join(chr(97 + c) for c in rng.integers(0, 26, rng.integers(2, 11))) for _ in range(20_000)]
    sentences = [
        " ".join(words[w] for w in rng.integers(0, len(words), rng.integers(8, 30))).capitalize() + "."
        for _ in range(20_000)
    ]
    sources = [f"source-{i:02d}" for i in range(50)]
    start_date = dt.date(2000, 1, 1)
    store = MetadataStore(path, readonly=False)
    store.begin()
    pid = 0
    for a in range(articles):
        target = int(np.clip(rng.normal(7_000, 1_500), 2_000, 14_000))
        picked: list[str] = []
        length = 0
        for s in rng.integers(0, len(sentences), 200):
            picked.append(sentences[s])
            length += len(sentences[s]) + 1
            if length >= target:
                break
        text = " ".join(picked)
        article = Article(
            id=f"a{a:07d}",
            title=picked[0][:90],
            text=text,
            date=start_date + dt.timedelta(days=int(rng.integers(0, 9_000))),
            source=sources[int(rng.integers(0, len(sources)))],
            url=f"https://news.example/{a}",
        )
        stride = max(1, (len(text) - 900) // max(1, passages_per_article - 1))
        rows = []
        for position in range(passages_per_article):
            start = min(position * stride, max(0, len(text) - 900))
            end = min(len(text), start + 900)
            digest = hashlib.blake2b(text[start:end].encode(), digest_size=16).hexdigest()
            rows.append(NewPassage(pid, article.id, position, start, end, digest, digest))
            pid += 1
        content = hashlib.blake2b(text.encode(), digest_size=16).hexdigest()
        store.insert(article, content, rows)
    store.commit()
    store.close()


# --- measurements --------------------------------------------------------------------------


def recall_at_k(found: np.ndarray, truth: np.ndarray) -> float:
    """Mean fraction of each truth row `(m, k)` found in the matching row of `found` `(m, k)`."""
    return float(np.mean([np.intersect1d(f, t).size / t.size for f, t in zip(found, truth, strict=True)]))


def exact_top(base: np.ndarray, base_ids: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    """Exact inner-product top-k ids `(m, k)` of `queries` over `base` `(n, dim)`, in batches."""
    index = faiss.IndexFlatIP(base.shape[1])
    out = np.empty((len(queries), k), np.int64)
    for start in range(0, len(base), 250_000):
        index.add(base[start : start + 250_000])
    for start in range(0, len(queries), 250):
        _, rows = index.search(queries[start : start + 250], k)
        out[start : start + 250] = base_ids[rows]
    return out


def percentiles(times: list[float]) -> str:
    ms = np.array(times) * 1e3
    return f"p50 {np.percentile(ms, 50):.2f} ms, p95 {np.percentile(ms, 95):.2f} ms"


def time_queries(
    search: Callable[[np.ndarray], np.ndarray], meta: MetadataStore, queries: np.ndarray, k: int
) -> tuple[list[float], list[float], np.ndarray]:
    """Per-query seconds of search alone and of search plus metadata lookup; the hits `(m, k)`."""
    search_only, total = [], []
    found = np.empty((len(queries), k), np.int64)
    for i in range(len(queries)):
        t0 = time.perf_counter()
        ids = search(queries[i : i + 1])
        t1 = time.perf_counter()
        rows = meta.passages(int(x) for x in ids[0] if x >= 0)
        t2 = time.perf_counter()
        if len(rows) != int((ids[0] >= 0).sum()):
            raise SystemExit(f"metadata lookup missed hits of query {i}")
        search_only.append(t1 - t0)
        total.append(t2 - t0)
        found[i] = ids[0]
    return search_only, total, found


def rss_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def measure_load(directory: Path, mmap: bool, queries_path: Path) -> dict[str, float]:
    """In a fresh process: RSS growth from loading the store, and after searching every query."""
    code = (
        "import json, sys, time, numpy as np\n"
        "from pathlib import Path\n"
        "from benchmarks.bench_scale import rss_bytes\n"
        "from embeddings.backends.local.stores import load_store\n"
        "before = rss_bytes(); t = time.perf_counter()\n"
        f"store = load_store('faiss', Path({str(directory)!r}), {{'mmap': {mmap}}})\n"
        "load_s = time.perf_counter() - t; loaded = rss_bytes()\n"
        f"q = np.load({str(queries_path)!r})\n"
        "for i in range(len(q)): store.search(q[i:i+1], 10)\n"
        "print(json.dumps({'load_s': load_s, 'after_load': loaded - before,"
        " 'after_queries': rss_bytes() - before}))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        check=True,
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


# --- the run -------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=1_000_000)
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=1_000)
    parser.add_argument("--batch", type=int, default=50_000, help="passages per store.add call")
    parser.add_argument(
        "--filters",
        type=float,
        nargs="*",
        default=[0.1, 0.01, 0.001],
        help="fractions of articles an `allowed` filter keeps (one run each)",
    )
    parser.add_argument("--k", type=int, default=K, help="hits per query (the service asks for 100)")
    parser.add_argument(
        "--k-exponents",
        type=float,
        nargs="*",
        default=None,
        help="search the same index once per faiss_ivf.K_EXPONENT (unfiltered nprobe growth with k)",
    )
    parser.add_argument("--exact-threshold", type=int, default=None)
    parser.add_argument("--workdir", type=Path, default=None, help="default: a temporary directory")
    args = parser.parse_args(argv)
    n, per_article = args.passages, args.passages // args.articles
    if per_article * args.articles != n:
        raise SystemExit("--passages must be a multiple of --articles")
    work = args.workdir or Path(tempfile.mkdtemp(prefix="bench-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    options: dict[str, object] = {}
    if args.exact_threshold is not None:
        options["exact_threshold"] = args.exact_threshold
    print(f"{n:,} passages, {args.articles:,} articles, dim {DIM}, {faiss.omp_get_max_threads()} threads")
    print(f"work directory {work}")
    try:
        run(args, n, per_article, work, options)
    finally:
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)


def run(args: argparse.Namespace, n: int, per_article: int, work: Path, options: dict[str, object]) -> None:
    t = time.perf_counter()
    data = clustered_vectors(n + args.queries, DIM)
    base, queries = data[:n], data[n:].copy()
    ids = np.arange(n, dtype=np.int64)
    print(f"vectors generated in {time.perf_counter() - t:.1f} s")

    t = time.perf_counter()
    meta_path = work / "meta.sqlite"
    build_metadata(meta_path, args.articles, per_article)
    print(
        f"metadata: {args.articles:,} articles / {n:,} passages in {time.perf_counter() - t:.1f} s,"
        f" {meta_path.stat().st_size / 1e6:,.0f} MB"
    )

    store = create_store("faiss", DIM, options)
    assert isinstance(store, FaissStore)
    t_build = time.perf_counter()
    exact_times: list[float] = []
    for start in range(0, n, args.batch):
        t = time.perf_counter()
        kind, params = store.kind, store.params
        store.add(ids[start : start + args.batch], base[start : start + args.batch])
        took = time.perf_counter() - t
        if store.kind != kind or store.params != params:
            print(f"  at {len(store):,}: {store.kind} {store.params} ({took:.1f} s for this add)")
        if store.kind == "exact" and not exact_times:
            with _one_thread():
                exact_times = [_timed(store.search, queries[i : i + 1]) for i in range(200)]
            print(f"  exact store at {len(store):,} passages, search only: {percentiles(exact_times)}")
    build_s = time.perf_counter() - t_build
    index_dir = work / "vectors"
    index_dir.mkdir()
    t = time.perf_counter()
    store.save(index_dir)
    save_s = time.perf_counter() - t
    size = (index_dir / FILENAME).stat().st_size
    print(f"build: {build_s:.1f} s (+ save {save_s:.1f} s); kind {store.kind}; {store.params}")
    print(f"index file: {size / 1e6:,.1f} MB = {size / n:.0f} bytes per passage")
    del store
    gc.collect()

    k = args.k
    t = time.perf_counter()
    truth = exact_top(base, ids, queries, k)
    rng = np.random.default_rng(7)
    filters: list[tuple[str, np.ndarray | None, np.ndarray]] = [("unfiltered", None, truth)]
    for fraction in args.filters:  # whole articles, as a date or source filter would keep them
        allowed = ids[np.repeat(rng.random(args.articles) < fraction, per_article)]
        label = f"allowed {fraction:.1%} of articles ({len(allowed):,} ids)"
        filters.append((label, allowed, exact_top(base[allowed], allowed, queries, k)))
    print(f"exact ground truth in {time.perf_counter() - t:.1f} s")
    del base, data
    gc.collect()

    queries_path = work / "queries.npy"
    np.save(queries_path, queries)
    for mmap in (False, True):
        mem = measure_load(index_dir, mmap, queries_path)
        print(
            f"load (mmap={mmap}) in {mem['load_s']:.2f} s:"
            f" RSS +{mem['after_load'] / n:.0f} bytes per passage,"
            f" +{mem['after_queries'] / n:.0f} after {len(queries):,} queries"
        )

    store = load_store("faiss", index_dir, options)
    meta = MetadataStore(meta_path, readonly=True)
    for exponent in args.k_exponents or [faiss_ivf.K_EXPONENT]:
        faiss_ivf.K_EXPONENT = exponent
        print(f"k={k}, nprobe grows with (k/{faiss_ivf.CALIBRATION_K})^{exponent}:")
        for label, allow, expected in filters:
            with _one_thread():
                search_only, total, found = time_queries(
                    lambda q, a=allow: store.search(q, k, allowed=a)[1], meta, queries, k
                )
            print(f"{label}: recall@{k} {recall_at_k(found, expected):.4f}")
            print(f"  search only      {percentiles(search_only)}")
            print(f"  search + lookup  {percentiles(total)}")
    default_threads = [_timed(store.search, queries[i : i + 1]) for i in range(200)]
    print(f"unfiltered, FAISS on {faiss.omp_get_max_threads()} threads: {percentiles(default_threads)}")
    t = time.perf_counter()
    _, batch_found = store.search(queries, k)
    print(
        f"one batch of {len(queries):,} queries: {time.perf_counter() - t:.2f} s,"
        f" recall@{k} {recall_at_k(batch_found, truth):.4f}"
    )
    meta.close()


@contextlib.contextmanager
def _one_thread() -> Iterator[None]:
    threads = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(threads)


def _timed(fn: Callable[..., object], *args: object) -> float:
    t = time.perf_counter()
    fn(*args, K)
    return time.perf_counter() - t


if __name__ == "__main__":
    main()
