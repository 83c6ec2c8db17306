"""The `qa` command's arguments: one parser for every command, and the types its values take.

`qa.cli` runs what it parses; the commands are given by name (`build_parser(commands)`), so the
arguments can be read apart from what each command does.
"""

from __future__ import annotations

import argparse
import datetime as dt
from collections.abc import Callable, Mapping
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from embeddings.backends import BACKENDS

PORTS = (1, 65535)
JSON = "print JSON instead of lines for people"
K = "how many to show (default %(default)s)"
EXAMPLES = """examples:
  qa index seeds/ FEED.jsonl        index articles (folders, .txt, .jsonl)
  qa ask "Pakistan army chief visit" -k 3 --since 2023-01-01 --source News.Az
  qa ask --batch QUESTIONS.jsonl --json > results.jsonl
  qa related ARTICLE_ID             the articles closest to one
  qa serve --port 8001              the page and the HTTP API

`qa COMMAND --help` describes each command. Exit status: 0 done, 1 failed,
2 bad arguments or a request the service refuses, 3 a damaged fall-back version
(`qa check --all`), 130 interrupted, 141 when the reader of the output stops."""


def build_parser(commands: Mapping[str, Callable[..., Any]]) -> argparse.ArgumentParser:
    """The parser of every command; each command's namespace has `run`, its entry in `commands`."""
    parser = argparse.ArgumentParser(
        prog="qa",
        description="Ask a news archive questions.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    verbose = "show more: -v this project's debug lines and libraries' warnings, -vv everything"
    parser.add_argument("-v", "--verbose", action="count", default=0, help=verbose)
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(required=True, metavar="COMMAND")

    def command(name: str, help: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help)
        # eval and the train-* commands index their data directory apart from the served index
        own = name == "eval" or name.startswith("train-")
        default = ".qa-eval/NAME_OF_DATA_DIR" if own else "$QA_INDEX_DIR or .qa-index"
        where = f"index directory (default: {default})"
        p.add_argument("--index-dir", type=_folder, help=where)
        # Also after the command (`qa index -v`); SUPPRESS keeps a `qa -v` given before it.
        p.add_argument("-v", "--verbose", action="count", default=argparse.SUPPRESS, help=verbose)
        p.set_defaults(run=commands[name])
        return p

    p = command("index", "index article files or folders (.txt, .json, .jsonl)")
    p.add_argument(
        "paths", nargs="+", type=Path, metavar="PATH", help="an article file or a folder of them (recursed)"
    )
    p.add_argument("--prune", action="store_true", help="delete indexed articles not found in PATHS")
    p.add_argument(
        "--rebuild", action="store_true", help="start from an empty index (e.g. after a model change)"
    )
    p.add_argument("--json", action="store_true", help=JSON)

    p = command("ask", "ask a question (or a batch of them)")
    p.add_argument("question", nargs="?", help="the question, in plain language (quote it)")
    p.add_argument("-k", type=int, default=5, metavar="N", help=K.replace("how many", "hits"))
    p.add_argument("--since", type=_date, metavar="YYYY-MM-DD", help="only articles from this day on")
    p.add_argument("--until", type=_date, metavar="YYYY-MM-DD", help="only articles up to this day")
    p.add_argument(
        "--source",
        action="append",
        dest="sources",
        metavar="SOURCE",
        help="restrict to a source, in any case (repeatable)",
    )
    p.add_argument("--as-of", type=_date, metavar="YYYY-MM-DD", help="answer as of this date (default today)")
    p.add_argument(
        "--batch",
        type=Path,
        metavar="FILE",
        help="JSON lines with `question` and an optional `id` (default: the line number);"
        " one result line each",
    )
    p.add_argument(
        "--as-of-from-date", action="store_true", help="in --batch, a line's `date` is its as-of date"
    )
    p.add_argument(
        "--no-interpret",
        dest="interpret",
        action="store_false",
        help='do not read time words in the question ("last week") as a date window',
    )
    p.add_argument("--json", action="store_true", help=JSON)

    p = command("related", "articles most similar to an indexed article")
    p.add_argument("article_id", help="the id of an indexed article (as `qa ask --json` gives it)")
    p.add_argument("-k", type=int, default=5, metavar="N", help=K.replace("how many", "related articles"))
    p.add_argument("--json", action="store_true", help=JSON)

    p = command("serve", "serve the HTTP API (indexes seeds/ first when there is no index)")
    p.add_argument("--host", help="address to listen on (default $QA_HOST or 127.0.0.1)")
    p.add_argument("--port", type=_port, help="port to listen on, 1-65535 (default $QA_PORT or 8000)")
    p.add_argument(
        "--workers",
        type=_positive,
        help="server processes, at least 1 (default $QA_WORKERS, else 2 or 1 on one core)",
    )

    p = command("stats", "counts of articles and passages, model, index size")
    p.add_argument("--json", action="store_true", help=JSON)

    p = command("delete", "delete articles by id")
    p.add_argument("ids", nargs="+", metavar="ARTICLE_ID", help="the id of an indexed article")
    p.add_argument("--json", action="store_true", help=JSON)

    p = command(
        "optimize",
        "rewrite the index in this release's layout and the vector index kind its size calls for"
        " (nothing is re-embedded)",
    )
    p.add_argument("--json", action="store_true", help=JSON)

    p = command(
        "migrate",
        "copy the index into another backend (e.g. local files into Milvus), embedding nothing",
    )
    p.add_argument("--to", required=True, choices=sorted(BACKENDS), help="the backend to copy into")
    p.add_argument(
        "--from", dest="source", choices=sorted(BACKENDS), help="the backend to copy (default: $QA_BACKEND)"
    )
    p.add_argument("--json", action="store_true", help=JSON)

    p = command(
        "check",
        "verify the index: every file against its checksum, then vectors, metadata, lexical index and"
        " counts agree (one line per problem, exit 1)",
    )
    p.add_argument(
        "--all",
        action="store_true",
        help="also check every other version kept, those `qa repair` falls back to (exit 3 when the live"
        " version is sound but one of those is not)",
    )
    p.add_argument("--json", action="store_true", help=JSON)

    p = command(
        "repair",
        "recover a damaged index: rebuild the damaged parts from intact ones, or fall back to the"
        " newest intact earlier version",
    )

    p = command("eval", "index a benchmark directory (corpus.jsonl + queries.jsonl) and score it")
    p.add_argument("data_dir", type=Path, help="the benchmark directory")
    p.add_argument("-k", type=int, default=10, metavar="N", help="hits per question (default %(default)s)")
    p.add_argument(
        "--as-of-from-date", action="store_true", help="use each question's date as its as-of date"
    )
    p.add_argument("--results", type=Path, help="also write the results JSON lines here")
    p.add_argument(
        "--related", action="store_true", help="also score related articles (articles sharing a question)"
    )
    p.add_argument("--json", action="store_true", help=JSON)

    p = command(
        "train-ranker",
        "fit the learned ranking on a question set (DATA_DIR: corpus.jsonl + queries.jsonl with gold_ids)",
    )
    _fitting(p, "ranker file", "candidates")
    p.add_argument(
        "--related",
        action="store_true",
        help="fit the related-articles ranker (articles sharing a question's gold ids) instead",
    )
    _no_index(p)

    p = command(
        "train-highlighter",
        "fit the learned highlight on a question set (DATA_DIR: corpus.jsonl + queries.jsonl with answers)",
    )
    p.add_argument("-k", type=int, default=10, help="hits per question whose sentences are learned from")
    _fitting(p, "highlighter file", "sentences")
    _no_index(p)

    p = command(
        "train-match",
        "fit the model of how well a hit matches on a question set (DATA_DIR: corpus.jsonl +"
        " queries.jsonl with gold_ids, answers and dates)",
    )
    _fitting(p, "match model file", "first hits")
    _no_index(p)
    return parser


def _fitting(p: argparse.ArgumentParser, fitted: str, collected: str) -> None:
    """The arguments every `qa train-*` command takes: the question set, where the fitted file goes,
    its L2 strength, and a cache of the examples it collects."""
    p.add_argument("data_dir", type=Path, help="the question set's directory")
    p.add_argument("--out", type=Path, default=None, help=f"{fitted} (default: the shipped one)")
    p.add_argument("--l2", type=float, default=0.01, help="L2 regularisation of the weights")
    p.add_argument(
        "--examples",
        type=Path,
        help=f"keep the collected {collected} here (.npz); read back, not collected again, when it holds"
        " them (one collected by another command, from other questions, another index or"
        " other settings is refused)",
    )


def _no_index(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--no-index",
        action="store_true",
        help="use the index as it is (do not add DATA_DIR/corpus.jsonl first)",
    )


def _version() -> str:
    try:
        return version("newsqa")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "(not installed)"


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value!r}") from None


def _folder(value: str) -> Path:
    if not value.strip():  # an unset shell variable: "" would be this folder, among the user's files
        raise argparse.ArgumentTypeError("empty: name a folder ('.' for this one)")
    return Path(value)


def _port(value: str) -> int:
    port = _integer(value)
    if not PORTS[0] <= port <= PORTS[1]:
        raise argparse.ArgumentTypeError(f"a port is between {PORTS[0]} and {PORTS[1]}, got {port}")
    return port


def _positive(value: str) -> int:
    number = _integer(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {number}")
    return number


def _integer(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {value!r}") from None
