"""Whether an encoder's vectors depend on the batch a passage is embedded in, and what batch 1 costs.

usage: python -m benchmarks.encoder_batching [--texts PATH ...] [--n 96] [--backends onnx-int8 onnx]
                                             [--rounds 2]

For each backend: the same passages embedded one at a time, in batches of 32, and in batches of 32
beside other passages; the smallest cosine and largest component difference between the ways; then
passages/s with batch 32 and batch 1, rounds interleaved. Passages are consecutive 200-word windows
(at most 1,200 characters) over the words of the given .txt/.jsonl files (default: the repo's seeds/):
the first N, and the next N as the others. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from benchmarks.bench_encoders import read_words
from embeddings.encoders import load_encoder
from qa.settings import Settings

REPO_ROOT = Path(__file__).resolve().parent.parent


def passages(paths: Sequence[Path], n: int) -> list[str]:
    """`n` passages of about 200 words (1,200 characters) cut from the texts' words."""
    words = read_words(paths)
    out = [" ".join(words[i : i + 200])[:1200] for i in range(0, len(words), 200)]
    return out[: 2 * n]


def compare(a: np.ndarray, b: np.ndarray) -> str:
    cosines = (a * b).sum(axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
    return f"min cosine {cosines.min():.5f}, largest difference {np.abs(a - b).max():.4g}"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--texts", type=Path, nargs="+", default=[REPO_ROOT / "seeds"])
    parser.add_argument("--n", type=int, default=96)
    parser.add_argument("--backends", nargs="+", default=["onnx-int8", "onnx"])
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args(argv)
    settings = Settings()
    texts = passages(args.texts, args.n)
    mine, others = texts[: args.n], texts[args.n :] or texts[: args.n][::-1]
    print(f"{len(mine)} passages (+{len(others)} others) from {', '.join(map(str, args.texts))}")
    for backend in args.backends:
        batched = load_encoder(settings.model_dir, backend, batch_size=32)
        single = load_encoder(settings.model_dir, backend, batch_size=1)
        alone = single.encode_documents(mine)
        in_32 = batched.encode_documents(mine)
        k = min(8, len(mine))
        beside = batched.encode_documents(mine[:k] + others[: 32 - k])[:k]
        print(f"{backend}: alone vs batch of 32: {compare(alone, in_32)}")
        print(f"{backend}: batch of 32 vs the same passages beside others: {compare(in_32[:k], beside)}")
        print(f"{backend}: batch of 32 twice: {compare(in_32, batched.encode_documents(mine))}")
        for round_ in range(args.rounds):
            order = ((32, batched), (1, single))
            for size, encoder in order if round_ % 2 == 0 else order[::-1]:
                started = time.perf_counter()
                encoder.encode_documents(mine)
                rate = len(mine) / (time.perf_counter() - started)
                print(f"{backend}: round {round_} batch {size:2}: {rate:.1f} passages/s", flush=True)


if __name__ == "__main__":
    main()
