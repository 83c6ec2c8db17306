"""ONNX Runtime variants of the bundled model: what else could make indexing faster on this CPU.

usage: python -m benchmarks.encoder_variants DATA_DIR [--passages 200] [--rounds 2] [--work DIR]

Times, on the same real passages the service would embed (its chunker, title context), the
default int8 graph against: two sessions of one thread each, batch sizes 16 and 64, unsigned
int8 weights (U8U8), signed weights without `reduce_range`, quantising MatMul only (attention in
fp32), and the fp32 graph. Each variant's vectors are compared with the default's (min cosine).
The quantised variants are written to `--work` (not the model cache) and rebuilt when missing.
"""

from __future__ import annotations

import argparse
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.bench_speed import embedded_texts, make_encoder, sample_articles
from embeddings.chunking import ChunkingConfig
from embeddings.encoders.base import l2_normalize, length_batches, mean_pool
from embeddings.encoders.export import OUTPUT_NAME, onnx_path
from embeddings.encoders.onnx import OnnxEncoder, pad_encodings


@dataclass(frozen=True, slots=True)
class Variant:
    name: str
    graph: Path
    threads: int = 2
    sessions: int = 1
    batch: int = 32


def quantised(source: Path, target: Path, **options: Any) -> Path:
    """`source` dynamically quantised to `target` with `options` (written once)."""
    from onnxruntime import quantization

    if not target.exists():
        quantization.quantize_dynamic(
            str(source), str(target), extra_options={"DefaultTensorType": 1}, per_channel=True, **options
        )
    return target


def run(variant: Variant, encodings: Sequence[Any], pad_id: int) -> tuple[float, np.ndarray]:
    """(passages/s, vectors) of one variant; its sessions split the length-sorted batches."""
    import onnxruntime as ort

    def session() -> Any:
        options = ort.SessionOptions()
        options.intra_op_num_threads = variant.threads
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        return ort.InferenceSession(str(variant.graph), options, providers=["CPUExecutionProvider"])

    sessions = [session() for _ in range(variant.sessions)]
    batches = length_batches([len(e.ids) for e in encodings], variant.batch)
    out = np.zeros((len(encodings), 384), np.float32)

    def embed(s: Any, mine: Sequence[np.ndarray]) -> None:
        names = [i.name for i in s.get_inputs()]
        for indices in mine:
            feeds = pad_encodings([encodings[i] for i in indices], pad_id)
            (tokens,) = s.run([OUTPUT_NAME], {n: feeds[n] for n in names})
            out[indices] = l2_normalize(mean_pool(tokens, feeds["attention_mask"]))

    embed(sessions[0], batches[:1])  # warm-up: first-run allocations
    started = time.perf_counter()
    workers = [
        threading.Thread(target=embed, args=(s, batches[i :: len(sessions)])) for i, s in enumerate(sessions)
    ]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return len(encodings) / (time.perf_counter() - started), out


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--passages", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=2, help="interleaved rounds; the best counts")
    parser.add_argument("--work", type=Path, default=Path(".bench/encoder-variants"))
    args = parser.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)

    base = make_encoder("onnx-int8", 2)
    assert isinstance(base, OnnxEncoder)
    fingerprint = base.identity.split("@")[1].split(":")[0]
    int8, fp32 = base.path, onnx_path(base.path.parent, fingerprint, quantize=False)
    from onnxruntime.quantization import QuantType

    variants = [
        Variant("default: int8 (s8 per-channel, reduce_range), 2 threads, batch 32", int8),
        Variant("int8, 2 sessions x 1 thread", int8, threads=1, sessions=2),
        Variant("int8, batch 16", int8, batch=16),
        Variant("int8, batch 64", int8, batch=64),
        Variant(
            "int8 U8U8 weights",
            quantised(fp32, args.work / "u8u8.onnx", weight_type=QuantType.QUInt8, reduce_range=False),
        ),
        Variant(
            "int8 without reduce_range",
            quantised(fp32, args.work / "s8.onnx", weight_type=QuantType.QInt8, reduce_range=False),
        ),
        Variant(
            "int8 MatMul only (attention fp32)",
            quantised(
                fp32,
                args.work / "matmul.onnx",
                weight_type=QuantType.QInt8,
                reduce_range=True,
                op_types_to_quantize=["MatMul"],
            ),
        ),
        Variant("fp32 (fused graph)", fp32),
    ]
    texts = embedded_texts(sample_articles(args.data_dir, args.passages // 4), base, ChunkingConfig())
    texts = texts[: args.passages]
    encodings = base._tokenizer.encode_batch(texts)
    print(f"{len(texts)} passages, mean {np.mean([len(e.ids) for e in encodings]):.0f} tokens")
    best: dict[str, float] = {}
    reference: np.ndarray | None = None
    cosines: dict[str, float] = {}
    for _ in range(args.rounds):
        for v in variants:
            rate, vectors = run(v, encodings, base._pad_id)
            if reference is None:
                reference = vectors
            best[v.name] = max(best.get(v.name, 0.0), rate)
            cosines[v.name] = float(np.min(np.sum(vectors * reference, axis=1)))
    default = best[variants[0].name]
    for v in variants:
        print(
            f"  {v.name:66} {best[v.name]:6.1f} passages/s  x{best[v.name] / default:.2f}"
            f"  min cosine vs default {cosines[v.name]:.4f}"
        )


if __name__ == "__main__":
    main()
