"""What integrity costs: hash throughput, and the checks of a version at open, in full and of its structure.

    python -m benchmarks.bench_checksums --hash                        # xxh3-128 vs BLAKE2b vs SHA-256
    python -m benchmarks.bench_checksums --index /work/cmp/idx-q1      # a real index (copied first)
    python -m benchmarks.bench_checksums --synthetic 1000000           # rows + vectors + columns
    python -m benchmarks.bench_checksums --shape 30000 1000000         # open's shape checks, lexical

A real index is copied (never written); one written before checksums existed gets them recorded
in the copy's manifest, as its next write would. A synthetic version has real SQLite rows of
news-length articles (`bench_scale.build_metadata`), random unit vectors in the FAISS store its size
calls for, and the column files, but no lexical index (its check is timed on real indexes).
`--shape` times what every open checks of a lexical index (`LexicalIndex.shape_problems`) on a
synthetic one: Zipf-distributed tokens, a vocabulary growing as Heaps' law has it.
"Cold" hashes a file after `posix_fadvise(DONTNEED)` dropped it from the page cache (only files of
this benchmark's own copy are dropped). Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import xxhash

from benchmarks.bench_scale import DIM, build_metadata, clustered_vectors
from embeddings.backends.local import LocalBackend
from embeddings.backends.local.bm25_build import FlatTokens
from embeddings.backends.local.columns import ColumnFiles
from embeddings.backends.local.integrity import file_problems, record_files
from embeddings.backends.local.lexical import LexicalIndex
from embeddings.backends.local.reader import LocalReader
from embeddings.backends.local.rows import FILENAME as ROWS_FILE
from embeddings.backends.local.rows import MetadataStore
from embeddings.backends.local.stores import create_store
from embeddings.backends.local.versions import CURRENT, FORMAT, MANIFEST, Manifest


def hash_throughput(megabytes: int = 256) -> dict[str, float]:
    """MB/s of each hash over one in-memory buffer (best of three)."""
    data = os.urandom(megabytes << 20)
    hashes = {
        "xxh3_128": lambda b: xxhash.xxh3_128(b).hexdigest(),
        "blake2b-128": lambda b: hashlib.blake2b(b, digest_size=16).hexdigest(),
        "sha256": lambda b: hashlib.sha256(b).hexdigest(),
    }
    out = {}
    for name, digest in hashes.items():
        best = min(_timed(digest, data) for _ in range(3))
        out[name] = round(megabytes / best)
    return out


def stamp(version: Path) -> None:
    """Record checksums in a version's manifest (what a write of this release does)."""
    manifest = Manifest.read(version)
    fields = {k: getattr(manifest, k) for k in Manifest.__slots__}
    files = record_files(version, exclude=frozenset({MANIFEST}))
    (version / MANIFEST).write_text(Manifest(**(fields | {"files": files})).to_json())


def synthetic(root: Path, passages: int, per_article: int = 10) -> None:
    """A version of `passages` passages: rows, vectors, columns, manifest with checksums."""
    version = root / "versions" / "v00000001"
    version.mkdir(parents=True)
    articles = passages // per_article
    started = time.perf_counter()
    build_metadata(version / ROWS_FILE, articles, per_article)
    print(f"  rows: {time.perf_counter() - started:.0f} s", file=sys.stderr)
    store = create_store("faiss", DIM, {})
    ids = np.arange(articles * per_article, dtype=np.int64)
    store.add(ids, clustered_vectors(len(ids), DIM))
    store.save(version)
    print(f"  vectors: {time.perf_counter() - started:.0f} s", file=sys.stderr)
    rows = MetadataStore(version / ROWS_FILE, readonly=False)
    ColumnFiles(rows).write()
    rows.close()
    created = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    manifest = Manifest(FORMAT, 1, "synthetic", DIM, "faiss", {}, articles, len(ids), len(ids), created)
    (version / MANIFEST).write_text(manifest.to_json())
    stamp(version)
    (root / CURRENT).write_text("v00000001\n")


def measure(root: Path) -> dict[str, object]:
    """Seconds of each check of the live version of `root`, and its size."""
    backend = LocalBackend(root)
    version = root / "versions" / backend.live_version()
    manifest = Manifest.read(version)
    assert manifest.files is not None
    size = sum(r.size for r in manifest.files.values())
    for path in version.rglob("*"):  # warm: every file read once
        if path.is_file():
            path.read_bytes()
    open_check = min(_timed(file_problems, version, manifest.files, "v", full=False) for _ in range(3))
    warm = min(_timed(file_problems, version, manifest.files, "v", full=True) for _ in range(3))
    _drop_cache(version)
    cold = _timed(file_problems, version, manifest.files, "v", full=True)
    opened = min(_timed(lambda: LocalReader.open(version).close()) for _ in range(3))
    reader = LocalReader.open(version)
    shapes = min(_timed(reader.shape_problems) for _ in range(3))  # offsets already loaded by open
    problems: list[str] = []
    structure = _timed(lambda: problems.extend(reader.structure_problems()))
    lexical = _timed(reader.lexical.problems) if reader.lexical is not None else None
    reader.close()
    return {
        "passages": manifest.passages,
        "files": len(manifest.files),
        "bytes": size,
        "open_checks_s": round(open_check, 4),
        "open_total_s": round(opened, 3),
        "open_shape_checks_s": round(shapes, 4),
        "checksums_warm_s": round(warm, 3),
        "checksums_cold_s": round(cold, 3),
        "checksums_warm_MB_per_s": round(size / 1e6 / warm),
        "structure_s": round(structure, 3),
        "lexical_part_of_structure_s": None if lexical is None else round(lexical, 3),
        "structure_problems": problems,
    }


def lexical_shapes(root: Path, passages: int, per_passage: int = 40) -> dict[str, object]:
    """Seconds to load a synthetic lexical index of `passages` passages (Zipf-distributed tokens over
    a vocabulary growing as Heaps' law has it) and of its open-time shape checks (median of 20)."""
    rng = np.random.default_rng(0)
    vocab_size = int(30 * passages**0.6)
    flat = np.minimum(rng.zipf(1.2, passages * per_passage) - 1, vocab_size - 1).astype(np.int32)
    offsets = np.arange(0, len(flat) + 1, per_passage, dtype=np.int64)
    vocab = {f"w{i}": i for i in range(vocab_size)}
    ids = np.arange(passages, dtype=np.int64)
    LexicalIndex._indexed(ids, FlatTokens(flat, offsets), vocab, stem=True).save(root)
    loads, shapes = [], []
    for _ in range(20):
        loads.append(_timed(LexicalIndex.load, root))
        lexical = LexicalIndex.load(root)
        shapes.append(_timed(lexical.shape_problems, passages))
    postings = len(LexicalIndex.load(root)._retriever.scores["indices"])
    return {
        "passages": passages,
        "postings": postings,
        "vocabulary": vocab_size,
        "load_s": round(float(np.median(loads)), 4),
        "shape_checks_s": round(float(np.median(shapes)), 4),
    }


def _drop_cache(version: Path) -> None:
    for path in version.rglob("*"):
        if path.is_file():
            fd = os.open(path, os.O_RDONLY)
            try:
                os.fsync(fd)
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)


def _timed(fn: object, *args: object, **kwargs: object) -> float:
    started = time.perf_counter()
    fn(*args, **kwargs)  # type: ignore[operator]
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hash", action="store_true", help="hash throughput in memory")
    parser.add_argument("--index", type=Path, help="an index directory (copied, never written)")
    parser.add_argument("--synthetic", type=int, nargs="*", default=[], help="passage counts")
    parser.add_argument("--shape", type=int, nargs="*", default=[], help="synthetic lexical passage counts")
    parser.add_argument(
        "--workdir", type=Path, help="where copies and synthetic indexes go (default: a temp dir)"
    )
    args = parser.parse_args(argv)
    if args.hash:
        print(json.dumps({"hash_MB_per_s": hash_throughput()}))
    work = Path(tempfile.mkdtemp(prefix="bench-checksums-", dir=args.workdir))
    try:
        if args.index:
            copy = work / "index"
            shutil.copytree(args.index, copy)
            version = copy / "versions" / (copy / CURRENT).read_text().strip()
            if Manifest.read(version).files is None:
                stamp(version)
            print(json.dumps({"index": str(args.index), **measure(copy)}))
        for n in args.synthetic:
            root = work / f"synthetic-{n}"
            synthetic(root, n)
            print(json.dumps({"synthetic": n, **measure(root)}))
            shutil.rmtree(root)
        for n in args.shape:
            root = work / f"lexical-{n}"
            root.mkdir()
            print(json.dumps({"lexical_shapes": n, **lexical_shapes(root, n)}))
            shutil.rmtree(root)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
