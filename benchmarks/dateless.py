"""A benchmark split as an archive without dates: encyclopedia-like text, where no article says when.

usage: python -m benchmarks.dateless DATA_DIR OUT_PARENT

Writes OUT_PARENT/NAME/corpus.jsonl (DATA_DIR's articles with their `date` removed, everything
else kept), OUT_PARENT/NAME/queries.jsonl (the same questions) and OUT_PARENT/score.py (a link to
DATA_DIR's scorer), NAME being DATA_DIR's folder name. Index it (`qa index
OUT_PARENT/NAME/corpus.jsonl --index-dir COPY`: a copy of the split's index re-embeds nothing,
its vectors are reused by text) and answer it with `benchmarks.held_out`. The references need no
copy: undated, they never read dates. Keep OUT_PARENT outside the repository.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path


def write_dateless(data_dir: Path, out_parent: Path) -> tuple[Path, int, int]:
    """The dateless copy's folder, how many articles it holds and how many had a date."""
    out = out_parent / data_dir.name
    out.mkdir(parents=True, exist_ok=True)
    articles = dated = 0
    with (
        (data_dir / "corpus.jsonl").open(encoding="utf-8") as src,
        (out / "corpus.jsonl").open("w", encoding="utf-8") as dst,
    ):
        for line in src:
            if not line.strip():
                continue
            article = json.loads(line)
            dated += article.pop("date", None) is not None
            articles += 1
            dst.write(json.dumps(article, ensure_ascii=False) + "\n")
    shutil.copyfile(data_dir / "queries.jsonl", out / "queries.jsonl")
    scorer = out_parent / "score.py"
    scorer.unlink(missing_ok=True)
    scorer.symlink_to((data_dir.parent / "score.py").resolve())
    return out, articles, dated


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("data_dir", type=Path, help="a split: corpus.jsonl, queries.jsonl, ../score.py")
    parser.add_argument("out_parent", type=Path, help="where the dateless split and score.py go")
    args = parser.parse_args(argv)
    for path in (
        args.data_dir / "corpus.jsonl",
        args.data_dir / "queries.jsonl",
        args.data_dir.parent / "score.py",
    ):
        if not path.is_file():
            parser.error(f"{path} not found")
    if args.out_parent.resolve() == args.data_dir.parent.resolve():
        parser.error("OUT_PARENT must not be the split's own folder: the copy would replace it")
    out, articles, dated = write_dateless(args.data_dir, args.out_parent)
    print(f"{out}: {articles} articles, {dated} dates removed")


if __name__ == "__main__":
    main()
