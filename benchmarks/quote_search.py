"""Quote search: does a sentence copied from an article find that article first?

usage: python -m benchmarks.quote_search DATA_DIR --index-dir DIR [--ranker FILE ...] [--n 150]

Picks `--n` articles of DATA_DIR/corpus.jsonl at random (seed 0) and from each one sentence of 60
to 250 characters, asks it as the question (k=5, undated) over an index of that corpus, and counts
how often the source article is the first hit and among the five. With `--ranker`, each file is
run as well as the shipped ranker. A check for changes to the learned ranking that could hurt a
near-exact match, the case furthest from the questions it was fitted on (a copied sentence's
dense cosine can lie beyond any in training, where the learned files clip it).
"""

from __future__ import annotations

import argparse
import random
import re
from pathlib import Path

from benchmarks.common import load_corpus
from qa.retrieval import RetrievalConfig
from qa.service import open_service
from qa.settings import Settings

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def quotes(data_dir: Path, n: int, seed: int = 0) -> list[tuple[str, str]]:
    """`(article id, sentence)` pairs: one sentence of 60 to 250 characters from each of up to `n`
    randomly chosen articles that have one."""
    rng = random.Random(seed)
    articles = load_corpus(data_dir)
    out = []
    for article in rng.sample(articles, len(articles)):
        sentences = [s for s in _SENTENCE_END.split(article.get("text") or "") if 60 < len(s) < 250]
        if sentences:
            out.append((str(article["id"]), rng.choice(sentences)))
        if len(out) == n:
            break
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--index-dir", type=Path, required=True)
    parser.add_argument("--ranker", type=Path, action="append", default=[])
    parser.add_argument("--n", type=int, default=150)
    args = parser.parse_args(argv)
    picked = quotes(args.data_dir, args.n)
    qa = open_service(Settings(index_dir=args.index_dir))
    for ranker in [None, *args.ranker]:
        qa.retrieval = RetrievalConfig(ranker_path=ranker)
        first = top5 = 0
        for article_id, sentence in picked:
            ids = [hit.article_id for hit in qa.ask(sentence, 5).hits]
            first += bool(ids) and ids[0] == article_id
            top5 += article_id in ids
        name = ranker or "shipped ranker"
        print(f"{name}: {len(picked)} sentences, source first {first}, in the top 5 {top5}")


if __name__ == "__main__":
    main()
