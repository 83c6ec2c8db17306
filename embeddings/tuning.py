"""Fine-tuning the embedding model on a question set, and what such a fine-tune trains against.

Pairs are cut by the service's chunker with its defaults (200 tokens, 40 overlap, title
context). `hard_negatives` and `in_batch` count false negatives (issue 15, item 2): BM25 hard
negatives that hold an answer, and random batches in which two questions share a gold article,
an answer or their text. `question_pairs`, `title_pairs` and `batches` build training data with
none of those, and `train` runs MultipleNegativesRankingLoss over it (in-batch negatives only).
The command lines are `benchmarks/tune_negatives.py` and `benchmarks/tune_model.py`; serving never
imports this module (PyTorch is needed only by `train`).
"""

from __future__ import annotations

import json
import re
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import bm25s
import numpy as np
from tokenizers import Tokenizer

from embeddings.chunking import ChunkingConfig, chunk_article
from embeddings.readers import iter_articles
from embeddings.text import bm25_query_tokens, bm25_tokens, snowball_stemmer
from embeddings.writer import passage_context


def normal(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.lower()))


def answer_pattern(answers: list[str]) -> re.Pattern[str] | None:
    words = [re.escape(a.strip()) for a in answers if a.strip()]
    return re.compile(r"\b(?:" + "|".join(words) + r")\b", re.IGNORECASE) if words else None


@dataclass(frozen=True, slots=True)
class Chunk:
    """A passage as the service cuts it: `text` is what is embedded (title context included)."""

    article_id: str
    position: int
    text: str
    raw: str  # the passage alone, without its title


def chunk_corpus(
    data_dir: Path, model_dir: Path, *, keep: set[str] | None = None, cap: int | None = None
) -> tuple[list[Chunk], dict[str, str]]:
    """Passages of `DATA_DIR/corpus.jsonl` (only articles in `keep`, the first `cap` passages of
    each, when given) cut with the service's defaults, and every article's title."""
    tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tokenizer.no_truncation()
    tokenizer.no_padding()

    def count(texts: list[str]) -> list[int]:
        return [len(e.ids) for e in tokenizer.encode_batch(list(texts), add_special_tokens=False)]

    chunks, titles = [], {}
    for article in iter_articles([data_dir / "corpus.jsonl"]):
        title = article.title or ""
        titles[article.id] = title
        if keep is not None and article.id not in keep:
            continue
        config = ChunkingConfig(200, 40, 256, count([title])[0] + 1 if title else 0)
        for p in chunk_article(article, count, config)[:cap]:
            chunks.append(Chunk(article.id, p.position, passage_context(title, p, p.position), p.text))
    return chunks, titles


def hard_negatives(
    queries: list[dict], texts: list[str], owners: list[str], titles: dict[str, str], depth: int
) -> dict[str, float]:
    stemmer = snowball_stemmer()
    retriever = bm25s.BM25()
    retriever.index(bm25_tokens(texts, stem=True), show_progress=False)
    owner = np.asarray(owners)
    top1_answer = top1_copy = top1_either = n = 0
    deep_answer = deep_copy = deep_total = 0
    for q in queries:
        pattern = answer_pattern(q["answers"])
        tokens = [t for t in bm25_query_tokens(q["question"], stemmer) if t in retriever.vocab_dict]
        if pattern is None or not tokens:
            continue
        docs, _ = retriever.retrieve([tokens], k=min(depth + 60, len(texts)), show_progress=False)
        gold = set(q["gold_ids"])
        gold_titles = {normal(titles[g]) for g in gold if titles.get(g)}
        negatives = [int(d) for d in docs[0] if owner[d] not in gold][:depth]
        if not negatives:
            continue
        n += 1
        flags = [(bool(pattern.search(texts[d])), normal(titles[owner[d]]) in gold_titles) for d in negatives]
        top1_answer += flags[0][0]
        top1_copy += flags[0][1]
        top1_either += flags[0][0] or flags[0][1]
        deep_answer += sum(a for a, _ in flags)
        deep_copy += sum(c for _, c in flags)
        deep_total += len(flags)
    return {
        "questions": n,
        "top1_holds_answer": top1_answer / n,
        "top1_copy_of_gold": top1_copy / n,
        "top1_false_negative": top1_either / n,
        f"top{depth}_holds_answer": deep_answer / deep_total,
        f"top{depth}_copy_of_gold": deep_copy / deep_total,
    }


def in_batch(queries: list[dict], batch: int, trials: int, seed: int) -> dict[str, float]:
    """Share of random batches with a pair of questions that are each other's false negative."""
    keys = []
    for q in queries:
        keys.append(
            {("q", normal(q["question"]))}
            | {("g", g) for g in q["gold_ids"]}
            | {("a", normal(a)) for a in q["answers"] if a.strip()}
        )
    rng = np.random.default_rng(seed)
    any_clash = {"q": 0, "g": 0, "a": 0, "any": 0}
    for _ in range(trials):
        pick = rng.choice(len(queries), size=batch, replace=False)
        seen: dict[tuple[str, str], int] = defaultdict(int)
        for i in pick:
            for key in keys[i]:
                seen[key] += 1
        kinds = {k[0] for k, c in seen.items() if c > 1}
        for kind in kinds:
            any_clash[kind] += 1
        any_clash["any"] += bool(kinds)
    names = {"q": "same_question_text", "g": "same_gold_article", "a": "same_answer", "any": "any"}
    return {f"batches_with_{names[k]}": v / trials for k, v in any_clash.items()}


@dataclass(frozen=True, slots=True)
class Pair:
    anchor: str
    positive: str
    keys: frozenset[tuple[str, str]]  # two items sharing a key are never in one batch


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
