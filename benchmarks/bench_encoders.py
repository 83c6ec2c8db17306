"""Encoder throughput: passages/s of torch, ONNX fp32 and ONNX int8 on passages of about max_tokens.

usage: python -m benchmarks.bench_encoders [--n 256] [--texts PATH ...] [--backends torch onnx onnx-int8]
                                           [--batch-size 32] [--repeats 3] [--model-dir DIR]
                                           [--cache-dir DIR]

Passages are word windows over the given .txt/.jsonl files (default: the repo's seeds/), or over
synthetic words when there are none, sized so they fill about 97% of the model's token limit.
Load time includes the one-time ONNX export/quantisation when the cache is empty. Prints figures;
asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from embeddings.encoders import BACKENDS, Encoder, load_encoder

REPO_ROOT = Path(__file__).resolve().parent.parent


def read_words(paths: Sequence[Path]) -> list[str]:
    """Whitespace words of every .txt file and every `text` field of .jsonl files under `paths`."""
    files = sorted(f for p in paths for f in ([p] if p.is_file() else p.rglob("*")) if f.is_file())
    words: list[str] = []
    for f in files:
        if f.suffix == ".txt":
            words += f.read_text(encoding="utf-8", errors="replace").split()
        elif f.suffix == ".jsonl":
            for line in f.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    words += str(json.loads(line).get("text", "")).split()
    return words


def synthetic_words(count: int, seed: int = 0) -> list[str]:
    """Pronounceable pseudo-words, so the tokenizer splits them like rare real words."""
    rng = np.random.default_rng(seed)
    syllables = ["ka", "to", "ri", "men", "sol", "ba", "der", "ni", "vo", "lus", "tra", "pe"]
    return ["".join(rng.choice(syllables, size=rng.integers(1, 4))) for _ in range(count)]


def build_passages(words: list[str], n: int, encoder: Encoder) -> list[str]:
    """`n` overlapping word windows of about `0.97 * encoder.max_tokens` tokens each."""
    sample = " ".join(words[:2000])
    per_word = encoder.count_tokens([sample])[0] / max(len(sample.split()), 1)
    width = max(int(0.97 * (encoder.max_tokens - 2) / per_word), 1)
    words = words * (1 + (n * 37 + width) // max(len(words), 1))  # enough to take n distinct starts
    return [" ".join(words[i * 37 : i * 37 + width]) for i in range(n)]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=256, help="number of passages")
    parser.add_argument("--texts", type=Path, nargs="*", default=[REPO_ROOT / "seeds"])
    parser.add_argument("--backends", nargs="+", choices=BACKENDS, default=list(BACKENDS))
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3, help="timed rounds; the best one counts")
    parser.add_argument("--model-dir", type=Path, default=None, help="default: the bundled model")
    parser.add_argument("--cache-dir", type=Path, default=None, help="ONNX cache (default: the library's)")
    args = parser.parse_args(argv)

    loaded: list[tuple[str, Encoder, float]] = []
    for backend in args.backends:
        start = time.perf_counter()
        encoder = load_encoder(args.model_dir, backend, cache_dir=args.cache_dir, batch_size=args.batch_size)
        loaded.append((backend, encoder, time.perf_counter() - start))

    words = read_words(args.texts) or synthetic_words(5000)
    passages = build_passages(words, args.n, loaded[0][1])
    tokens = loaded[0][1].count_tokens(passages)
    print(f"{len(passages)} passages, tokens mean {np.mean(tokens):.0f} max {max(tokens)}", end="")
    print(f", batch {args.batch_size}, best of {args.repeats} interleaved rounds")

    for _, encoder, _ in loaded:
        encoder.encode_documents(passages[: args.batch_size])  # warm-up: allocations, lazy init
    seconds: dict[str, float] = {backend: float("inf") for backend, _, _ in loaded}
    for _ in range(args.repeats):  # interleaved, so load from other processes hits all alike
        for backend, encoder, _ in loaded:
            start = time.perf_counter()
            encoder.encode_documents(passages)
            seconds[backend] = min(seconds[backend], time.perf_counter() - start)
    base = seconds[loaded[0][0]]
    for backend, encoder, load_s in loaded:
        rate = len(passages) / seconds[backend]
        print(
            f"{backend:>10}  load {load_s:6.1f}s  {rate:7.1f} passages/s  "
            f"x{base / seconds[backend]:.2f} vs {loaded[0][0]}  ({encoder.identity})"
        )


if __name__ == "__main__":
    main()
