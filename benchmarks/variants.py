"""Altered copies of a benchmark split (`benchmarks.dateless`, `benchmarks.cut_articles`): the
argument checks and the folder layout they share (they read and write the files with
`benchmarks.common`'s `load_corpus`, `load_queries` and `write_results`).

A variant of DATA_DIR is written to OUT_PARENT/NAME (`corpus.jsonl`, `queries.jsonl`) beside
OUT_PARENT/score.py, a link to DATA_DIR's scorer, so that `benchmarks.held_out` and the other
scripts that find `score.py` next to a split read it as they read the original.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def parse(
    doc: str, argv: list[str] | None, extra: Sequence[tuple[str, dict[str, Any]]] = ()
) -> argparse.Namespace:
    """`data_dir` and `out_parent` (plus `extra` options), checked: the split's files exist and
    OUT_PARENT is not the split's own parent (the copy would replace it)."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data_dir", type=Path, help="a split: corpus.jsonl, queries.jsonl, ../score.py")
    parser.add_argument("out_parent", type=Path, help="where the altered split and score.py go")
    for flag, options in extra:
        parser.add_argument(flag, **options)
    args = parser.parse_args(argv)
    check_split(parser, args.data_dir)
    if args.out_parent.resolve() == args.data_dir.parent.resolve():
        parser.error("OUT_PARENT must not be the split's own folder: the copy would replace it")
    return args


def folder(data_dir: Path, out_parent: Path, name: str) -> Path:
    """OUT_PARENT/`name`, created, with OUT_PARENT/score.py linked to the split's scorer."""
    out = out_parent / name
    out.mkdir(parents=True, exist_ok=True)
    scorer = out_parent / "score.py"
    scorer.unlink(missing_ok=True)
    scorer.symlink_to((data_dir.parent / "score.py").resolve())
    return out


def check_split(parser: argparse.ArgumentParser, data_dir: Path) -> None:
    """Exit through `parser` unless `data_dir` holds a split: its two files and `../score.py`."""
    for path in (data_dir / "corpus.jsonl", data_dir / "queries.jsonl", data_dir.parent / "score.py"):
        if not path.is_file():
            parser.error(f"{path} not found")
