"""The highlight's own cost per hit, lexical and learned, on the top hits of a split's questions.

usage: python -m benchmarks.bench_highlight DATA_DIR --index-dir DIR [-k 10] [--rounds 7] [--json OUT]

Answers DATA_DIR/queries.jsonl over an index of its corpus (undated, highlight off) and keeps every
hit's text with its question, the question terms' archive idf and its sentence spans (which the
index stores), as shaping passes them; then
times `best_sentence` on all of them, per highlighter, cold (the per-passage analysis cache
cleared first, as for passages not seen before) and warm (analysed already, as for a popular
passage), in interleaved rounds. Prints microseconds per hit (CPU time: the process's own, so
other jobs on a shared machine count less); asserts nothing.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.common import split_parser
from embeddings.text import split_sentences
from qa.retrieval.highlight import best_sentence
from qa.retrieval.highlighter import load_highlighter
from qa.retrieval.sentence_features import analyse_passage
from qa.retrieval.shaping import corpus_idf
from qa.service import open_service
from qa.settings import Settings

Item = tuple[str, str, Callable[[str], float] | None, tuple[tuple[int, int], ...]]


def collect(data_dir: Path, index_dir: Path, k: int) -> list[Item]:
    qa = open_service(Settings(index_dir=index_dir, highlight=False))
    reader = qa.reader()
    lines = (data_dir / "queries.jsonl").read_text(encoding="utf-8").splitlines()
    questions = [json.loads(line)["question"] for line in lines if line.strip()]
    qa.prepare(questions)
    return [
        (question, hit.text, corpus_idf(reader, question), tuple(split_sentences(hit.text)))
        for question in questions
        for hit in qa.ask(question, k).hits
    ]


def per_hit_us(items: list[Item], highlighter: str, cold: bool) -> float:
    scorer = load_highlighter(None) if highlighter == "learned" else None
    if cold:
        analyse_passage.cache_clear()
    started = time.process_time()
    for question, text, idf, spans in items:
        best_sentence(question, text, idf=idf, spans=spans, scorer=scorer)
    return (time.process_time() - started) / len(items) * 1e6


def run(data_dir: Path, index_dir: Path, k: int, rounds: int) -> dict[str, Any]:
    items = collect(data_dir, index_dir, k)
    times: dict[str, list[float]] = {}
    for _ in range(rounds):
        for highlighter in ("lexical", "learned"):
            for cold in (True, False):  # warm right after cold: the cache holds every passage
                key = f"{highlighter} {'cold' if cold else 'warm'}"
                times.setdefault(key, []).append(per_hit_us(items, highlighter, cold))
    return {
        "data": data_dir.name,
        "hits": len(items),
        "us_per_hit": {
            key: {"min": round(min(v), 1), "median": round(statistics.median(v), 1)}
            for key, v in times.items()
        },
    }


def main(argv: list[str] | None = None) -> None:
    parser = split_parser(__doc__)
    parser.add_argument("-k", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    report = run(args.data_dir, args.index_dir, args.k, args.rounds)
    print(f"{report['data']}: {report['hits']} hits")
    for key, v in report["us_per_hit"].items():
        print(f"  {key:14} {v['min']:8.1f} us/hit (min)  {v['median']:8.1f} (median)")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
