"""Rebuilding BM25 from stored tokens: bm25s's own builder against `ArrayBM25`, same run, same tokens.

Every write recomputes BM25 over all passages (its idf and average length change with each one),
from the tokens the live version stores. This times that rebuild on the benchmark index's real
tokens, and on those tokens tiled up to a million passages, with both builders, and checks that
they produce the same matrix.

    PYTHONPATH=. python -m benchmarks.bench_bm25 [INDEX_DIR] [--passages 1000000]

INDEX_DIR defaults to the realtimeqa-2024q1 benchmark index that `benchmarks.quality` builds.
"""

from __future__ import annotations

import argparse
import gc
import time
from collections.abc import Sequence
from pathlib import Path

import bm25s
import numpy as np

from benchmarks.quality import INDEX_ROOT
from embeddings.backends.local.bm25_build import ArrayBM25, FlatTokens
from embeddings.backends.local.versions import IndexDirectory

DEFAULT_INDEX = INDEX_ROOT / "realtimeqa-2024q1-onnx-int8-title"


def stored_tokens(index_dir: Path) -> FlatTokens:
    """The live version's stored BM25 tokens (written since `qa optimize` or any write)."""
    directory = IndexDirectory(index_dir)
    lexical = directory.versions / directory.current_name() / "lexical"
    return FlatTokens(np.load(lexical / "tokens.npy"), np.load(lexical / "offsets.npy"))


def tiled(tokens: FlatTokens, passages: int) -> FlatTokens:
    """`passages` passages: the real ones repeated (real lengths and term distribution)."""
    reps = -(-passages // tokens.passages)
    lengths = np.tile(np.diff(tokens.offsets), reps)[:passages]
    offsets = np.zeros(passages + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    return FlatTokens(np.tile(tokens.flat, reps)[: offsets[-1]], offsets)


def time_builders(tokens: FlatTokens) -> dict[str, float]:
    """Seconds for each builder over `tokens`; asserts that their matrices are equal."""
    vocab = {f"t{i}": i for i in range(int(tokens.flat.max()) + 1)}
    out, matrices = {}, {}
    for name, retriever, corpus in (
        ("ArrayBM25", ArrayBM25(), tokens),
        ("bm25s", bm25s.BM25(), tokens.to_lists()),  # bm25s's own builder takes lists (not timed)
    ):
        gc.collect()
        started = time.perf_counter()
        retriever.index(bm25s.tokenization.Tokenized(ids=corpus, vocab=dict(vocab)), show_progress=False)
        out[name] = time.perf_counter() - started
        matrices[name] = retriever.scores
        del corpus
    for key in ("data", "indices", "indptr"):
        if not np.array_equal(matrices["ArrayBM25"][key], matrices["bm25s"][key]):
            raise AssertionError(f"the two builders disagree on {key}")
    return out


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("index_dir", type=Path, nargs="?", default=DEFAULT_INDEX)
    parser.add_argument("--passages", type=int, default=1_000_000, help="tiled size (0: skip)")
    args = parser.parse_args(argv)
    real = stored_tokens(args.index_dir)
    sizes = [real] + ([tiled(real, args.passages)] if args.passages else [])
    print("passages   tokens        bm25s builder   ArrayBM25   speed-up   (same matrix: checked)")
    for tokens in sizes:
        t = time_builders(tokens)
        print(
            f"{tokens.passages:>9,} {len(tokens.flat):>12,}  {t['bm25s']:>12.2f} s {t['ArrayBM25']:>9.2f} s"
            f"   x{t['bm25s'] / t['ArrayBM25']:.1f}"
        )


if __name__ == "__main__":
    main()
