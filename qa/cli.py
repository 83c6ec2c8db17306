"""The `qa` command: index, ask, related, serve, stats, delete, optimize, migrate, check, repair, eval,
train-ranker, train-highlighter, train-match (their arguments: `qa.cli_args`)."""

from __future__ import annotations

import argparse
import contextlib
import difflib
import errno
import json
import os
import re
import socket
import sys
import tempfile
from collections.abc import Sequence
from itertools import chain
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pydantic_settings import SettingsError
from tqdm import tqdm

from embeddings.backends import Backend, VersionCheck, create_backend
from embeddings.errors import IndexCorruptError, InvalidRequestError, QAError
from embeddings.progress import ProgressMode
from embeddings.readers import Problem, count_articles, iter_articles
from qa.batch_file import BatchFileError, BatchQuestion, read_batch
from qa.cli_args import build_parser
from qa.console import OutputError, console, escaped_line, escaping_stdout, progress_mode
from qa.date_notes import DateNotes
from qa.evaluation import check_benchmark
from qa.settings import Settings, misspelt_variables
from qa.validation import check_dates, check_k, check_question


def main(argv: Sequence[str] | None = None) -> int:
    """Run one `qa` command; returns its exit status (0 ok, 1 failed, 2 bad usage, 3 a damaged
    fall-back version found by `qa check --all`, 130 interrupted, 141 when whatever reads the output
    stops reading, as `| head` does)."""
    parser = _parser()
    args = parser.parse_args(argv)
    # Article text printed to a terminal is escaped; `serve` prints none, and its access log's
    # colour codes must reach the terminal as they are.
    escaping = contextlib.nullcontext() if getattr(args, "run", None) is cmd_serve else escaping_stdout()
    try:
        with console(args.verbose), escaping:
            code = _run(args)
            if sys.stdout is not None:  # what is still buffered fails here, not unreported at exit
                sys.stdout.flush()
            return code
    except BrokenPipeError:
        _silence_stdout()
        return 141
    except OutputError as exc:
        _silence_stdout()
        print(f"qa: error: {exc}", file=sys.stderr)
        return 1


def _silence_stdout() -> None:
    """The reader of stdout has gone: point it at /dev/null, so no flush at exit complains."""
    with contextlib.suppress(OSError, ValueError):  # no file descriptor (captured, or closed already)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def _run(args: argparse.Namespace) -> int:
    overrides = {"index_dir": args.index_dir} if getattr(args, "index_dir", None) else {}
    try:
        settings = Settings(**overrides)
    except ValidationError as exc:
        problems = "; ".join(
            (f"{_variable(e['loc'])}: " if e["loc"] else "") + e["msg"].removeprefix("Value error, ")
            for e in exc.errors()
        )
        print(f"qa: error: bad configuration: {problems}", file=sys.stderr)
        return 2
    except SettingsError as exc:  # a variable holding JSON that is not JSON
        print(f"qa: error: bad configuration: {_unparsed(exc)}", file=sys.stderr)
        return 2
    for name, setting in misspelt_variables(os.environ):
        print(f"qa: warning: {name} is not a setting (ignored); did you mean {setting}?", file=sys.stderr)
    try:
        return int(args.run(args, settings) or 0)
    except InvalidRequestError as exc:  # what was asked cannot be answered: a usage error
        print(f"qa: error: {exc}", file=sys.stderr)
        return 2
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


def _unparsed(exc: SettingsError) -> str:
    """What pydantic-settings could not parse: the variable and why, in one line."""
    field = re.search(r'field "(\w+)"', str(exc))
    if field is None:
        return str(exc)
    cause = exc.__cause__
    reason = f" ({cause.msg}, column {cause.colno})" if isinstance(cause, json.JSONDecodeError) else ""
    return f"{_variable([field.group(1)])} is not valid JSON{reason}"


def _parser() -> argparse.ArgumentParser:
    return build_parser(COMMANDS)


def _count(n: int, noun: str) -> str:
    """`n` and `noun`, plural unless n is 1: "1 article", "3 articles"."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _service(settings: Settings, progress: ProgressMode = "off") -> Any:
    from qa.service import open_service  # the model loads only for commands that need it

    return open_service(settings, progress=progress, verify=False)  # `_refuse_damage` where answering


def _print_json(data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False))


def _report_problem(problem: Problem) -> None:
    # through tqdm: a line of its own above the progress bar, not run on after it
    tqdm.write(escaped_line(f"qa: skipped {problem.location}: {problem.reason}"), file=sys.stderr)


def cmd_index(args: argparse.Namespace, settings: Settings) -> int:
    missing = [p for p in args.paths if not p.exists()]
    if missing:  # before anything is written: with --prune, a typo would delete what it names
        names = ", ".join(str(p) for p in missing)
        print(f"qa: error: no such file or directory: {names} (nothing was indexed)", file=sys.stderr)
        return 1
    problems: list[Problem] = []

    def on_problem(p: Problem) -> None:
        problems.append(p)
        _report_problem(p)

    articles = iter_articles(args.paths, on_problem=on_problem, max_chars=settings.max_article_chars)
    first = next(articles, None)  # read before the model loads or an index is created
    if first is None:
        where = ", ".join(str(p) for p in args.paths)
        print(f"qa: error: no article could be read from {where} (nothing was indexed)", file=sys.stderr)
        return 1
    qa = _service(settings, progress=progress_mode())

    # A skipped record's article would be taken for gone: with any problem, --prune deletes nothing
    # (a repeated id's article was read: nothing of it is gone).
    def lost() -> list[Problem]:
        return [p for p in problems if not p.repeated]

    prune = (lambda: not lost()) if args.prune else False
    total = count_articles(args.paths)
    dates = DateNotes()
    report = qa.add(dates.watch(chain([first], articles)), prune=prune, rebuild=args.rebuild, total=total)
    if args.prune and (skipped_records := lost()):
        n = len(skipped_records)
        skipped = "1 file or record was" if n == 1 else f"{n} files or records were"
        print(f"qa: --prune deleted nothing: {skipped} skipped (fix them and index again)", file=sys.stderr)
    for note in dates.notes():
        print(f"qa: note: {note}", file=sys.stderr)
    summary = report.summary() | {"problems": len(problems), "index_dir": qa.backend.describe()}
    if args.json:
        _print_json(summary)
    else:
        print(
            f"indexed {_count(report.articles, 'article')}, {_count(report.passages, 'passage')}"
            f" in {qa.backend.describe()}"
            f" (added {len(report.added)}, updated {len(report.updated)}, unchanged {report.unchanged},"
            f" deleted {len(report.deleted)}; embedded {report.passages_embedded},"
            f" reused {report.passages_reused}; {_count(len(problems), 'problem')})"
        )
    return 0


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    if (args.question is None) == (args.batch is None):
        print("qa ask: give a QUESTION or --batch FILE", file=sys.stderr)
        return 2
    check_dates(args.since, args.until)  # once, before the model loads (a batch: not per question)
    # The file is read before the model loads: a typo in its name fails at once.
    batch = (
        read_batch(args.batch, args.as_of, args.as_of_from_date, _report_problem)
        if args.batch is not None
        else []
    )
    qa = _service(settings)
    _refuse_damage(qa, settings)
    options = {"since": args.since, "until": args.until, "sources": args.sources, "interpret": args.interpret}
    if args.batch is not None:
        return _ask_batch(qa, args, batch, options)
    answer = qa.ask(args.question, args.k, as_of=args.as_of, **options)
    _note_unknown_sources(qa, answer.unknown_sources)
    if args.json:
        _print_json(answer.to_dict())
        return 0
    if answer.interpreted:
        print(f"({answer.interpreted.description})")
    for n, hit in enumerate(answer.hits, 1):
        print(
            f"{n}. [{hit.date or 'undated'}] {hit.source or 'unknown source'} — {hit.title}"
            f"  ({hit.score:.4f}{', weak match' if hit.weak else ''})"
        )
        print(f"   {hit.highlight or hit.text[:300]}")
        if hit.url:
            print(f"   {hit.url}")
        if hit.copies:
            print(f"   also published by {_published(hit.copies)}")
    if not answer.hits:
        newest = qa.newest() if args.since else None
        if newest and newest < args.since:
            late = f" (--since {args.since}: the newest article is from {newest})"
        elif args.since and args.as_of and args.since > args.as_of:
            late = f" (--since {args.since} is after --as-of {args.as_of})"
        else:
            late = ""
        print(f"no passages found{late}")
    elif all(h.weak for h in answer.hits):
        print("(every hit matches the question only weakly: the archive may not hold the answer)")
    return 0


def _ask_batch(qa: Any, args: argparse.Namespace, batch: list[BatchQuestion], options: dict[str, Any]) -> int:
    check_k(args.k, qa.max_k)  # once, rather than refusing every question for it
    askable = []
    for item in batch:
        try:
            check_question(item.question, qa.max_question_chars)
        except InvalidRequestError as exc:
            print(f"qa: skipped {item.location}: {exc}", file=sys.stderr)
            continue
        askable.append(item)
    qa.prepare([item.question for item in askable])  # embeds every question in one pass
    answered, noted = 0, False
    for item in askable:
        try:
            answer = qa.ask(item.question, args.k, as_of=item.as_of, **options)
        except InvalidRequestError as exc:
            print(f"qa: skipped {item.location}: {exc}", file=sys.stderr)
            continue
        answered += 1
        if not noted:  # the same sources for every question: said once
            _note_unknown_sources(qa, answer.unknown_sources)
            noted = True
        record = {"id": item.id, **answer.to_dict()}
        print(
            json.dumps(record, ensure_ascii=False)
            if args.json
            else f"{item.id}\t{_count(len(answer.hits), 'hit')}"
        )
    if not answered:
        raise BatchFileError(f"no question in {args.batch} could be asked")
    return 0


def _note_unknown_sources(qa: Any, names: Sequence[str]) -> None:
    """One line on stderr per `--source` that no article is from, with the names it may have meant."""
    if not names:
        return
    lower = {name.lower(): name for name, _ in qa.sources()}
    for name in names:
        close = [lower[m] for m in difflib.get_close_matches(name.lower(), list(lower), n=3, cutoff=0.6)]
        hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        print(f"qa: no article is from source {name!r}{hint}", file=sys.stderr)


def cmd_related(args: argparse.Namespace, settings: Settings) -> int:
    qa = _service(settings)
    _refuse_damage(qa, settings)
    related, copies = qa.related_with_copies(args.article_id, args.k)
    if args.json:
        _print_json(
            {
                "article_id": args.article_id,
                "copies": [c.to_dict() for c in copies],
                "related": [r.to_dict() for r in related],
            }
        )
        return 0
    if copies:
        print(f"the same story, also published by {_published(copies)}")
    for r in related:
        print(
            f"{r.score:.4f}  {r.article_id}  [{r.date or 'undated'}]"
            f" {r.source or 'unknown source'} — {r.title}"
        )
        if r.copies:
            print(f"        also published by {_published(r.copies)}")
    if not related:
        print("no other article is related" + (" besides its copies" if copies else ""))
    return 0


def _published(copies: Sequence[Any]) -> str:
    return ", ".join(f"{c.source or c.article_id} ({c.date or 'undated'})" for c in copies)


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    host = args.host or settings.host
    port = settings.port if args.port is None else args.port
    settings = settings.model_copy(update={"host": host, "port": port})
    if problem := _unbindable(host, port):  # before the index and the model: one line, not uvicorn's exit 3
        raise QAError(f"cannot listen on {host}:{port}: {problem}")
    from qa.service import load_model_files

    load_model_files(settings.retrieval)  # here, not in each worker's start-up
    backend = create_backend(settings.backend, **settings.backend_options())
    if not backend.exists():
        print(f"qa: no index at {backend.describe()}; indexing {settings.seeds_dir} first", file=sys.stderr)
        _service(settings, progress=progress_mode()).add(
            iter_articles([settings.seeds_dir], on_problem=_report_problem),
            total=count_articles([settings.seeds_dir]),
        )
    elif settings.verify_on_start:
        try:
            problems = backend.verify(structure=False)
        except IndexCorruptError as exc:  # CURRENT itself names no version
            problems = list(exc.problems)
        if problems:
            raise IndexCorruptError.of(problems, backend.way_out_of(problems))
    # Two processes answer concurrent requests on two cores (one is bound by the GIL): with 8
    # clients 323 vs 238 requests/s and p99 39 vs 60 ms (docs/BENCHMARKS.md).
    workers = args.workers or settings.workers or min(2, os.cpu_count() or 1)
    if workers > 1 and settings.single_process:
        print("qa: Milvus Lite opens in one process: serving with 1 worker", file=sys.stderr)
        workers = 1
    if workers > 1:
        os.environ.update({"QA_INDEX_DIR": str(settings.index_dir), "QA_HOST": host, "QA_PORT": str(port)})
        # The workers share their request metrics through files in a fresh directory (prometheus-client's
        # multiprocess mode), so /metrics counts every worker's requests; it goes when the server stops.
        with tempfile.TemporaryDirectory(prefix="qa-metrics-") as shared:
            os.environ["PROMETHEUS_MULTIPROC_DIR"] = shared
            app = "qa.api:app_from_environment"
            try:
                uvicorn.run(app, factory=True, host=host, port=port, workers=workers)
            finally:
                del os.environ["PROMETHEUS_MULTIPROC_DIR"]
        return 0
    from qa.api import create_app

    uvicorn.run(create_app(settings, lambda: _service(settings)), host=host, port=port)
    return 0


def _unbindable(host: str, port: int) -> str | None:
    """Why a server could not listen on `host:port` (in use, an address this machine lacks), or
    None. A test bind, closed at once, as uvicorn binds (SO_REUSEADDR)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        return str(exc.strerror or exc)
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            hint = (
                " (another server? `qa serve --port N`, or `make run PORT=N`)"
                if exc.errno == errno.EADDRINUSE
                else ""
            )
            return f"{exc.strerror or exc}{hint}"
    return None


def cmd_stats(args: argparse.Namespace, settings: Settings) -> int:
    stats = _service(settings).stats()
    if args.json:
        _print_json(stats)
    else:
        rows = [(key, value) for key, value in stats.items() if key != "learned"]
        # "ranker          the package's file, fitted on realtimeqa-train ..."
        rows += [(file["name"], _learned_line(file)) for file in stats["learned"]]
        width = max(len(key) for key, _ in rows)
        for key, value in rows:
            if isinstance(value, dict):  # sources: "News.Az 3, Azernews 2"
                value = ", ".join(f"{name} {count}" for name, count in value.items()) or "none"
            print(f"{key:{width}} {value}")
    return 0


def _learned_line(file: dict[str, Any]) -> str:
    made = "the package's file" if file["packaged"] else "a file of your own"
    line = f"{made}, fitted on {file['data'] or 'questions it does not name'}"
    if file["encoder"] is None:
        return line
    if file["fits"]:
        return f"{line} with this model's vectors"
    return f"{line} with {file['encoder']}'s vectors, not this model's: refit it on your questions"


def cmd_delete(args: argparse.Namespace, settings: Settings) -> int:
    report = _service(settings).delete(args.ids)
    if args.json:
        _print_json(report.summary())
    else:
        remain = "remains" if report.articles == 1 else "remain"
        print(f"deleted {_count(len(report.deleted), 'article')}; {report.articles} {remain}")
    for missing in report.missing:
        print(f"qa: no article with id {missing!r}", file=sys.stderr)
    return 1 if report.missing else 0


def cmd_optimize(args: argparse.Namespace, settings: Settings) -> int:
    report = _service(settings).optimize()
    if args.json:
        _print_json(report.summary())
    else:
        print(
            f"version {report.version}: {_count(report.articles, 'article')},"
            f" {_count(report.passages, 'passage')}"
        )
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
            f"copied {_count(report.articles, 'article')}, {_count(report.passages, 'passage')}"
            f" from {summary['from']}"
            f" to {summary['to']} (version {report.version}; nothing embedded)"
        )
    return 0


def cmd_check(args: argparse.Namespace, settings: Settings) -> int:
    backend = create_backend(settings.backend, **settings.backend_options())
    try:
        problems, version = _verify_live(backend)
    except IndexCorruptError as exc:  # the pointer to the live version itself is damaged
        problems, version = list(exc.problems), None
    note = ""
    if not problems:
        reader = backend.open()
        if reader.info.checksums is False:
            note = (
                f" ({version} has no checksums: written before they were recorded, so only its structure"
                " was checked; the next write or `qa optimize` records them)"
            )
        reader.close()
    kept = backend.verify_kept() if args.all else []
    live = [VersionCheck(version, True, tuple(problems))] if version is not None else []
    checks = live + kept
    if args.json:
        summary = {"ok": not problems, "problems": problems, "version": version, "note": note.strip()}
        if args.all:
            summary["versions"] = [
                {"version": c.version, "live": c.live, "ok": c.ok, "problems": list(c.problems)}
                for c in checks
            ]
        _print_json(summary)
    elif args.all:
        if version is None:  # no live version can be named: its problems alone
            print("\n".join(problems))
        for c in checks:
            unchecked = " (no checksums: only its structure was checked)" * (c.checksums is False)
            legacy = note if c.live else unchecked
            state = "ok" + legacy if c.ok else _count(len(c.problems), "problem")
            name = f"{c.version} (live)" if c.live else c.version
            print(f"{name}: {state}" + "".join(f"\n  {line}" for line in c.problems))
        if not kept:
            print("no other version is kept: `qa repair` has none to fall back to")
    else:
        print("ok" + note if not problems else "\n".join(problems))
    if problems:
        way_out = backend.way_out_of(problems, kept if args.all else None)  # kept: checked once
        print(f"qa: the live version is damaged: {way_out}", file=sys.stderr)
    if damaged := [c.version for c in kept if not c.ok]:
        which = "version" if len(damaged) == 1 else "versions"
        them = "it" if len(damaged) == 1 else "them"
        print(
            f"qa: warning: damaged fall-back {which} {', '.join(damaged)}: `qa repair` cannot use {them}",
            file=sys.stderr,
        )
    return 1 if problems else 3 if damaged else 0


def _verify_live(backend: Backend, tries: int = 3) -> tuple[list[str], str]:
    """`backend.verify()` and the name of the version it checked: a write published meanwhile
    (by a server taking `POST /articles`, say) would pair one version's problems with another's
    name, so the check runs again while the live version changes under it."""
    for _ in range(tries - 1):
        before = backend.live_version()
        problems = backend.verify()
        if backend.live_version() == before:
            return problems, before
    return backend.verify(), backend.live_version()


def cmd_repair(args: argparse.Namespace, settings: Settings) -> int:
    for line in _service(settings).repair():
        print(line)
    return 0


def _refuse_damage(qa: Any, settings: Settings) -> None:
    """Check every checksum of the live version before answering from it (setting
    verify_on_start); a damaged one stops the command with one line naming the file."""
    if settings.verify_on_start and (problems := qa.verify()):
        raise IndexCorruptError.of(problems, qa.backend.way_out_of(problems))


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    from qa.evaluation import evaluate

    check_benchmark(args.data_dir)  # before an index directory is made for it
    settings = _data_index(settings, args.data_dir)
    qa = _service(settings, progress=progress_mode())
    metrics = evaluate(
        qa,
        args.data_dir,
        k=args.k,
        as_of_from_date=args.as_of_from_date,
        results_path=args.results,
        on_problem=_report_problem,
        related=args.related,
    )
    if args.json:
        _print_json(metrics)
    else:
        print("  ".join(f"{k} {v}" for k, v in metrics.items()))
    return 0


def _check_training_data(
    args: argparse.Namespace, required: tuple[str, ...] = ("question", "gold_ids")
) -> None:
    """The benchmark files are there, every question line reads, and the files the command will
    write can be written, before the model loads and the corpus is indexed (minutes): a bad line
    or a mistyped `--out` is one error line at once, not a traceback after the work."""
    from qa.ranker_training import read_queries

    check_benchmark(args.data_dir)
    read_queries(args.data_dir / "queries.jsonl", required)
    cache = getattr(args, "examples", None)
    cache = None if cache is not None and cache.is_file() else cache  # one to read back
    for option, path in (("--out", args.out), ("--examples", cache)):
        if path is not None and (problem := _unwritable(path)):
            raise InvalidRequestError(f"{option} {path}: {problem}")


def _data_index(settings: Settings, data_dir: Path) -> Settings:
    """`settings` with the index of `eval` and `train-*` over `data_dir`: `--index-dir` when given,
    else `.qa-eval/NAME` (NAME: the data folder's). Beside it, `NAME.from` records which folder it
    indexes, so another folder of the same name is refused rather than added to it."""
    if "index_dir" in settings.model_fields_set:
        return settings
    source = data_dir.resolve()
    index = Path(".qa-eval") / source.name
    record = index.with_name(f"{source.name}.from")
    if record.is_file() and (other := record.read_text(encoding="utf-8").strip()) != str(source):
        raise InvalidRequestError(
            f"{index} holds the index of {other}, another folder named {source.name!r}:"
            " give this one its own --index-dir"
        )
    if not record.is_file():
        record.parent.mkdir(parents=True, exist_ok=True)
        record.write_text(f"{source}\n", encoding="utf-8")
    return settings.model_copy(update={"index_dir": index})


def _unwritable(path: Path) -> str | None:
    """Why a file cannot be written at `path` (None when it can, or already exists as a file)."""
    if path.is_dir():
        return "is a folder; name a file"
    if path.exists():
        return None if os.access(path, os.W_OK) else "cannot be written (permission)"
    if not path.parent.is_dir():
        return f"no folder {path.parent}"
    return None if os.access(path.parent, os.W_OK) else f"cannot write in {path.parent} (permission)"


def cmd_train_ranker(args: argparse.Namespace, settings: Settings) -> int:
    from qa.ranker_training import train_ranker, train_related_ranker
    from qa.retrieval.learned import RELATED_SHIPPED, SHIPPED

    _check_training_data(args)
    settings = _data_index(settings, args.data_dir)
    # The files being refitted are not loaded: a stale one (features of another release) is what
    # this command replaces. Fitting reads features, never a fitted model's scores.
    retrieval = settings.retrieval.model_copy(update={"ranking": "weights", "related": "hybrid"})
    qa = _service(settings.model_copy(update={"retrieval": retrieval}), progress=sys.stderr.isatty())
    if not args.no_index:
        qa.add(iter_articles([args.data_dir / "corpus.jsonl"], on_problem=_report_problem))
    train, out = (
        (train_related_ranker, args.out or RELATED_SHIPPED)
        if args.related
        else (train_ranker, args.out or SHIPPED)
    )
    ranker = train(qa, args.data_dir / "queries.jsonl", out, l2=args.l2, cache=args.examples)
    print(f"wrote {out}: " + ", ".join(f"{k} {v}" for k, v in ranker.about.items()))
    if args.related:
        print("use it with QA_RELATED=learned" + (f" QA_RELATED_RANKER_PATH={out}" if args.out else ""))
    else:
        print("use it with QA_RANKING=learned" + (f" QA_RANKER_PATH={out}" if args.out else ""))
    return 0


def cmd_train_highlighter(args: argparse.Namespace, settings: Settings) -> int:
    from qa.highlighter_training import train_highlighter
    from qa.retrieval.highlighter import SHIPPED

    _check_training_data(args, ("question",))
    settings = _data_index(settings, args.data_dir)
    # the hits do not depend on the highlighter, and the shipped file may be missing or stale
    lexical = settings.retrieval.model_copy(update={"highlighter": "lexical"})
    qa = _service(settings.model_copy(update={"retrieval": lexical}), progress=sys.stderr.isatty())
    if not args.no_index:
        qa.add(iter_articles([args.data_dir / "corpus.jsonl"], on_problem=_report_problem))
    out = args.out or SHIPPED
    model = train_highlighter(
        qa, args.data_dir / "queries.jsonl", out, l2=args.l2, k=args.k, cache=args.examples
    )
    print(f"wrote {out}: " + ", ".join(f"{k} {v}" for k, v in model.about.items()))
    print("use it with QA_HIGHLIGHTER=learned" + (f" QA_HIGHLIGHTER_PATH={out}" if args.out else ""))
    return 0


def cmd_train_match(args: argparse.Namespace, settings: Settings) -> int:
    from qa.match_training import train_match
    from qa.retrieval.match import SHIPPED

    _check_training_data(args)
    settings = _data_index(settings, args.data_dir)
    # answered without a match model: the one being fitted may be missing or stale
    unmatched = settings.retrieval.model_copy(update={"match": False})
    qa = _service(settings.model_copy(update={"retrieval": unmatched}), progress=sys.stderr.isatty())
    if not args.no_index:
        qa.add(iter_articles([args.data_dir / "corpus.jsonl"], on_problem=_report_problem))
    out = args.out or SHIPPED
    model = train_match(qa, args.data_dir / "queries.jsonl", out, l2=args.l2, cache=args.examples)
    print(f"wrote {out}: " + ", ".join(f"{k} {v}" for k, v in model.about.items()))
    if args.out:
        print(f"use it with QA_MATCH_PATH={out}")
    return 0


COMMANDS = {
    "index": cmd_index,
    "ask": cmd_ask,
    "related": cmd_related,
    "serve": cmd_serve,
    "stats": cmd_stats,
    "delete": cmd_delete,
    "optimize": cmd_optimize,
    "migrate": cmd_migrate,
    "check": cmd_check,
    "repair": cmd_repair,
    "eval": cmd_eval,
    "train-ranker": cmd_train_ranker,
    "train-highlighter": cmd_train_highlighter,
    "train-match": cmd_train_match,
}


if __name__ == "__main__":
    sys.exit(main())
