"""`qa eval`: index a benchmark directory, answer its questions, score them like score.py does."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from embeddings.errors import ArticleNotFoundError, QAError
from embeddings.readers import Problem, count_articles, iter_articles
from qa.service import QAService

FILES = ("corpus.jsonl", "queries.jsonl")
WHERE = (
    "a benchmark directory holds corpus.jsonl and queries.jsonl (see README.md, Evaluation); the"
    " RealTime QA splits are in ../shared/benchmarks/ beside a project checkout, built from"
    " github.com/realtimeqa/realtimeqa_public"
)


class BenchmarkDataError(QAError):
    """A benchmark directory is missing or lacks one of its files."""


def check_benchmark(data_dir: Path) -> None:
    """Raise BenchmarkDataError, saying where benchmark data comes from, unless `data_dir` holds
    both files."""
    if not data_dir.is_dir():
        raise BenchmarkDataError(f"no benchmark directory at {data_dir}: {WHERE}")
    missing = [name for name in FILES if not (data_dir / name).is_file()]
    if missing:
        raise BenchmarkDataError(f"{data_dir} has no {' or '.join(missing)}: {WHERE}")


def evaluate(
    qa: QAService,
    data_dir: Path,
    *,
    k: int = 10,
    as_of_from_date: bool = False,
    results_path: Path | None = None,
    on_problem: Callable[[Problem], None] | None = None,
    related: bool = False,
) -> dict[str, Any]:
    """Index `data_dir/corpus.jsonl`, answer `data_dir/queries.jsonl`, return the metrics
    (with `related`, also those of related articles, as `related.Hit@10` and `related.Recall@10`)."""
    from qa.ranker_training import read_queries  # it imports this module

    check_benchmark(data_dir)
    # Read, and every line checked, before the corpus is indexed (minutes): a bad line is one error.
    queries = read_queries(data_dir / "queries.jsonl", ("id", "question", "gold_ids"))
    corpus = [data_dir / "corpus.jsonl"]
    qa.add(iter_articles(corpus, on_problem=on_problem), total=count_articles(corpus))
    results = answer_queries(qa, queries, k=k, as_of_from_date=as_of_from_date)
    if results_path is not None:
        results_path.parent.mkdir(parents=True, exist_ok=True)
        results_path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in results))
    metrics = score(queries, results)
    if related:
        metrics |= {f"related.{key}": v for key, v in score_related(qa, queries).items()}
    return metrics


def answer_queries(
    qa: QAService, queries: Sequence[dict[str, Any]], *, k: int = 10, as_of_from_date: bool = False
) -> list[dict[str, Any]]:
    """One `{"id", "hits"}` record per query, hits as the API returns them."""
    qa.prepare([q["question"] for q in queries])
    out = []
    for q in queries:
        as_of = dt.date.fromisoformat(q["date"][:10]) if as_of_from_date and q.get("date") else None
        answer = qa.ask(q["question"], k, as_of=as_of)
        out.append({"id": q["id"], "hits": [h.to_dict() for h in answer.hits]})
    return out


def related_truth(queries: Sequence[dict[str, Any]]) -> dict[str, set[str]]:
    """Per article, the other articles that answer a question it answers (`gold_ids` of 2 or more):
    they report the same event."""
    truth: dict[str, set[str]] = {}
    for q in queries:
        gold = {str(g) for g in q.get("gold_ids") or []}
        if len(gold) < 2:
            continue
        for article in gold:
            truth.setdefault(article, set()).update(gold - {article})
    return truth


def score_related(qa: QAService, queries: Sequence[dict[str, Any]], *, k: int = 10) -> dict[str, Any]:
    """Related articles against `related_truth`: Hit@k (one of them among the k) and Recall@k
    (the share of them among the k), averaged over the indexed articles that have some.

    The syndicated copies listed with a shown article, or with the article itself, count as
    returned (the user sees them as "also published by"); `Hit@k.shown` and `Recall@k.shown`
    count the k shown articles only.
    """
    truth = related_truth(queries)
    totals = dict.fromkeys([f"Hit@{k}", f"Recall@{k}", f"Hit@{k}.shown", f"Recall@{k}.shown"], 0.0)
    n = 0
    for article, others in sorted(truth.items()):
        try:
            listed, shown = related_returned(qa, article, k)
        except ArticleNotFoundError:
            continue  # not in the index (a corpus that lacks it)
        n += 1
        for suffix, ids in (("", listed), (".shown", shown)):
            totals[f"Hit@{k}{suffix}"] += bool(ids & others)
            totals[f"Recall@{k}{suffix}"] += len(ids & others) / len(others)
    return {key: round(v / max(n, 1), 4) for key, v in totals.items()} | {"articles": n}


def related_returned(qa: QAService, article: str, k: int) -> tuple[set[str], set[str]]:
    """What `qa.related(article, k)` puts before a user: every article listed (the k shown, their
    syndicated copies and the article's own, which only the modes that fold copies in list
    apart), and the k shown."""
    found, own = qa.related_with_copies(article, k)  # `own` is empty where the mode lists copies
    shown = {r.article_id for r in found}
    return shown | {c.article_id for r in found for c in r.copies} | {c.article_id for c in own}, shown


def score(queries: Sequence[dict[str, Any]], results: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The metrics of the shared benchmark's score.py, computed the same way."""
    by_id = {r["id"]: r.get("hits", []) for r in results}
    totals = dict.fromkeys(["Hits@1", "Hits@5", "Hits@10", "MRR@10", "AnsRec@5", "AnsRec@10"], 0.0)
    highlights = any("highlight" in h for hits in by_id.values() for h in hits)
    if highlights:
        totals |= {"HiAnsRec@1": 0.0, "HiAnsRec@5": 0.0}
    for q in queries:
        hits = by_id.get(q["id"], [])
        gold = set(q["gold_ids"])
        ids = [str(h.get("article_id")) for h in hits]
        for n in (1, 5, 10):
            totals[f"Hits@{n}"] += any(i in gold for i in ids[:n])
        rank = next((r for r, i in enumerate(ids[:10], 1) if i in gold), None)
        totals["MRR@10"] += 1 / rank if rank else 0.0
        answers = [a.lower() for a in q["answers"]]
        for n in (5, 10):
            totals[f"AnsRec@{n}"] += any(
                a in (h.get("text") or "").lower() for h in hits[:n] for a in answers
            )
        if highlights:
            for n in (1, 5):
                totals[f"HiAnsRec@{n}"] += any(
                    a in (h.get("highlight") or "").lower() for h in hits[:n] for a in answers
                )
    n = max(len(queries), 1)
    return {key: round(v / n, 4) for key, v in totals.items()} | {
        "queries": len(queries),
        "answered": sum(q["id"] in by_id for q in queries),
    }
