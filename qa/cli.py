"""The `qa` command: index, ask, related, serve, stats, delete, migrate, check, eval (over `QAService`)."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from embeddings.backends import BACKENDS, create_backend
from embeddings.errors import InvalidRequestError, QAError
from embeddings.readers import Problem, iter_articles
from qa.settings import Settings
from qa.validation import check_k


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    overrides = {"index_dir": args.index_dir} if getattr(args, "index_dir", None) else {}
    try:
        settings = Settings(**overrides)
    except ValidationError as exc:
        problems = "; ".join(f"{_variable(e['loc'])}: {e['msg']}" for e in exc.errors())
        print(f"qa: error: bad configuration: {problems}", file=sys.stderr)
        return 2
    try:
        return int(args.run(args, settings) or 0)
    except QAError as exc:
        print(f"qa: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("qa: interrupted", file=sys.stderr)
        return 130


def _variable(loc: Sequence[object]) -> str:
    """The environment variable of a settings error's location (retrieval knobs are flat there)."""
    names = [str(part) for part in loc]
    if len(names) > 1 and names[0] == "retrieval":
        names = names[1:]
    return "QA_" + "_".join(names).upper()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="qa", description="Ask a news archive questions.")
    sub = parser.add_subparsers(required=True, metavar="COMMAND")

    def command(name: str, run: Any, help: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help)
        p.add_argument("--index-dir", type=Path, help="index directory (default: $QA_INDEX_DIR or .qa-index)")
        p.set_defaults(run=run)
        return p

    p = command("index", cmd_index, "index article files or folders (.txt, .json, .jsonl)")
    p.add_argument("paths", nargs="+", type=Path)
    p.add_argument("--prune", action="store_true", help="delete indexed articles not found in PATHS")
    p.add_argument(
        "--rebuild", action="store_true", help="start from an empty index (e.g. after a model change)"
    )
    p.add_argument("--json", action="store_true")

    p = command("ask", cmd_ask, "ask a question (or a batch of them)")
    p.add_argument("question", nargs="?")
    p.add_argument("-k", type=int, default=5)
    p.add_argument("--since", type=_date)
    p.add_argument("--until", type=_date)
    p.add_argument("--source", action="append", dest="sources", help="restrict to a source (repeatable)")
    p.add_argument("--as-of", type=_date, help="answer as of this date (default today)")
    p.add_argument("--batch", type=Path, help="JSON lines with `id` and `question`; one result line each")
    p.add_argument(
        "--as-of-from-date", action="store_true", help="in --batch, a line's `date` is its as-of date"
    )
    p.add_argument("--json", action="store_true")

    p = command("related", cmd_related, "articles most similar to an indexed article")
    p.add_argument("article_id")
    p.add_argument("-k", type=int, default=5)
    p.add_argument("--json", action="store_true")

    p = command("serve", cmd_serve, "serve the HTTP API (indexes seeds/ first when there is no index)")
    p.add_argument("--host")
    p.add_argument("--port", type=int)
    p.add_argument(
        "--workers", type=int, help="server processes (default $QA_WORKERS, else 2 or 1 on one core)"
    )

    p = command("stats", cmd_stats, "counts of articles and passages, model, index size")
    p.add_argument("--json", action="store_true")

    p = command("delete", cmd_delete, "delete articles by id")
    p.add_argument("ids", nargs="+")
    p.add_argument("--json", action="store_true")

    p = command(
        "optimize",
        cmd_optimize,
        "rewrite the index in this release's layout and the vector index kind its size calls for"
        " (nothing is re-embedded)",
    )
    p.add_argument("--json", action="store_true")

    p = command(
        "migrate",
        cmd_migrate,
        "copy the index into another backend (e.g. local files into Milvus), embedding nothing",
    )
    p.add_argument("--to", required=True, choices=sorted(BACKENDS), help="the backend to copy into")
    p.add_argument(
        "--from", dest="source", choices=sorted(BACKENDS), help="the backend to copy (default: $QA_BACKEND)"
    )
    p.add_argument("--json", action="store_true")

    p = command("check", cmd_check, "verify the index (vectors, metadata and counts agree)")
    p.add_argument("--json", action="store_true")

    p = command("eval", cmd_eval, "index a benchmark directory (corpus.jsonl + queries.jsonl) and score it")
    p.add_argument("data_dir", type=Path)
    p.add_argument("-k", type=int, default=10)
    p.add_argument(
        "--as-of-from-date", action="store_true", help="use each question's date as its as-of date"
    )
    p.add_argument("--results", type=Path, help="also write the results JSON lines here")
    p.add_argument("--json", action="store_true")
    return parser


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value!r}") from None


def _service(settings: Settings, progress: bool = False) -> Any:
    from qa.service import open_service  # the model loads only for commands that need it

    return open_service(settings, progress=progress)


def _print_json(data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False))


def _report_problem(problem: Problem) -> None:
    print(f"qa: skipped {problem.location}: {problem.reason}", file=sys.stderr)


def cmd_index(args: argparse.Namespace, settings: Settings) -> int:
    qa = _service(settings, progress=sys.stderr.isatty() and not args.json)
    problems: list[Problem] = []

    def on_problem(p: Problem) -> None:
        problems.append(p)
        _report_problem(p)

    missing = [p for p in args.paths if not p.exists()]
    for path in missing:
        on_problem(Problem(str(path), "no such file or directory"))
    report = qa.add(
        iter_articles(
            [p for p in args.paths if p.exists()], on_problem=on_problem, max_chars=settings.max_article_chars
        ),
        prune=args.prune,
        rebuild=args.rebuild,
    )
    summary = report.summary() | {"problems": len(problems), "index_dir": qa.backend.describe()}
    if args.json:
        _print_json(summary)
    else:
        print(
            f"indexed {report.articles} articles, {report.passages} passages in {qa.backend.describe()}"
            f" (added {len(report.added)}, updated {len(report.updated)}, unchanged {report.unchanged},"
            f" deleted {len(report.deleted)}; embedded {report.passages_embedded},"
            f" reused {report.passages_reused}; {len(problems)} problems)"
        )
    return 0


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    if (args.question is None) == (args.batch is None):
        print("qa ask: give a QUESTION or --batch FILE", file=sys.stderr)
        return 2
    qa = _service(settings)
    filters = {"since": args.since, "until": args.until, "sources": args.sources}
    if args.batch is not None:
        return _ask_batch(qa, args, filters)
    answer = qa.ask(args.question, args.k, as_of=args.as_of, **filters)
    if args.json:
        _print_json(answer.to_dict())
        return 0
    if answer.interpreted:
        i = answer.interpreted
        print(f"(reading {i.text!r} as {i.since or '…'} to {i.until or '…'})")
    for n, hit in enumerate(answer.hits, 1):
        print(
            f"{n}. [{hit.date or 'undated'}] {hit.source or 'unknown source'} — {hit.title}"
            f"  ({hit.score:.4f})"
        )
        print(f"   {hit.highlight or hit.text[:300]}")
        if hit.url:
            print(f"   {hit.url}")
    if not answer.hits:
        print("no passages found")
    return 0


def _ask_batch(qa: Any, args: argparse.Namespace, filters: dict[str, Any]) -> int:
    queries = []
    for n, line in enumerate(args.batch.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            as_of = args.as_of
            if args.as_of_from_date and item.get("date"):
                as_of = dt.date.fromisoformat(str(item["date"])[:10])
            queries.append((str(item["id"]), str(item["question"]), as_of))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            print(f"qa: skipped {args.batch}:{n}: {exc}", file=sys.stderr)
    check_k(args.k, qa.max_k)  # once, rather than refusing every question for it
    qa.prepare([q for _, q, _ in queries])  # embeds every question in one pass
    for qid, question, as_of in queries:
        try:
            answer = qa.ask(question, args.k, as_of=as_of, **filters)
        except InvalidRequestError as exc:
            print(f"qa: skipped {qid}: {exc}", file=sys.stderr)
            continue
        record = {"id": qid, **answer.to_dict()}
        print(json.dumps(record, ensure_ascii=False) if args.json else f"{qid}\t{len(answer.hits)} hits")
    return 0


def cmd_related(args: argparse.Namespace, settings: Settings) -> int:
    related = _service(settings).related(args.article_id, args.k)
    if args.json:
        _print_json({"article_id": args.article_id, "related": [r.to_dict() for r in related]})
    else:
        for r in related:
            print(f"{r.score:.4f}  {r.article_id}  [{r.date or 'undated'}] {r.source or ''} — {r.title}")
    return 0


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    host, port = args.host or settings.host, args.port or settings.port
    settings = settings.model_copy(update={"host": host, "port": port})
    backend = create_backend(settings.backend, **settings.backend_options())
    if not backend.exists():
        print(f"qa: no index at {backend.describe()}; indexing {settings.seeds_dir} first", file=sys.stderr)
        _service(settings, progress=sys.stderr.isatty()).add(
            iter_articles([settings.seeds_dir], on_problem=_report_problem)
        )
    # Two processes answer concurrent requests on two cores (one is bound by the GIL): with 8
    # clients 323 vs 238 requests/s and p99 39 vs 60 ms (docs/BENCHMARKS.md).
    workers = args.workers or settings.workers or min(2, os.cpu_count() or 1)
    if workers > 1 and settings.single_process:
        print("qa: Milvus Lite opens in one process: serving with 1 worker", file=sys.stderr)
        workers = 1
    if workers > 1:
        os.environ.update({"QA_INDEX_DIR": str(settings.index_dir), "QA_HOST": host, "QA_PORT": str(port)})
        uvicorn.run("qa.api:app_from_environment", factory=True, host=host, port=port, workers=workers)
        return 0
    from qa.api import create_app

    uvicorn.run(create_app(settings, lambda: _service(settings)), host=host, port=port)
    return 0


def cmd_stats(args: argparse.Namespace, settings: Settings) -> int:
    stats = _service(settings).stats()
    if args.json:
        _print_json(stats)
    else:
        for key, value in stats.items():
            print(f"{key:12} {value}")
    return 0


def cmd_delete(args: argparse.Namespace, settings: Settings) -> int:
    report = _service(settings).delete(args.ids)
    if args.json:
        _print_json(report.summary())
    else:
        print(f"deleted {len(report.deleted)} articles; {report.articles} remain")
    for missing in report.missing:
        print(f"qa: no article with id {missing!r}", file=sys.stderr)
    return 1 if report.missing else 0


def cmd_optimize(args: argparse.Namespace, settings: Settings) -> int:
    report = _service(settings).optimize()
    if args.json:
        _print_json(report.summary())
    else:
        print(f"version {report.version}: {report.articles} articles, {report.passages} passages")
    return 0


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    source_name = args.source or settings.backend
    if source_name == args.to:
        print(f"qa migrate: the index is already in {args.to!r}; name another with --from", file=sys.stderr)
        return 2
    source_settings = settings.model_copy(update={"backend": source_name})
    source = create_backend(source_name, **source_settings.backend_options())
    target = settings.model_copy(update={"backend": args.to})
    qa = _service(target)
    report = qa.migrate(source)
    summary = report.summary() | {"from": source.describe(), "to": qa.backend.describe()}
    if args.json:
        _print_json(summary)
    else:
        print(
            f"copied {report.articles} articles, {report.passages} passages from {summary['from']}"
            f" to {summary['to']} (version {report.version}; nothing embedded)"
        )
    return 0


def cmd_check(args: argparse.Namespace, settings: Settings) -> int:
    qa = _service(settings)
    problems = qa.check()
    if args.json:
        _print_json({"ok": not problems, "problems": problems, "version": qa.version()})
    else:
        print("ok" if not problems else "\n".join(problems))
    return 1 if problems else 0


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    from qa.evaluation import evaluate

    if "index_dir" not in settings.model_fields_set:
        settings = settings.model_copy(update={"index_dir": Path(".qa-eval") / args.data_dir.resolve().name})
    qa = _service(settings, progress=sys.stderr.isatty())
    metrics = evaluate(
        qa,
        args.data_dir,
        k=args.k,
        as_of_from_date=args.as_of_from_date,
        results_path=args.results,
        on_problem=_report_problem,
    )
    if args.json:
        _print_json(metrics)
    else:
        print("  ".join(f"{k} {v}" for k, v in metrics.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
