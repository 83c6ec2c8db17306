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

import shutil
from pathlib import Path

from benchmarks import variants
from benchmarks.common import load_corpus, write_results


def write_dateless(data_dir: Path, out_parent: Path) -> tuple[Path, int, int]:
    """The dateless copy's folder, how many articles it holds and how many had a date."""
    out = variants.folder(data_dir, out_parent, data_dir.name)
    articles = load_corpus(data_dir)
    dated = sum(article.pop("date", None) is not None for article in articles)
    write_results(out / "corpus.jsonl", articles)
    shutil.copyfile(data_dir / "queries.jsonl", out / "queries.jsonl")
    return out, len(articles), dated


def main(argv: list[str] | None = None) -> None:
    args = variants.parse(__doc__, argv)
    out, articles, dated = write_dateless(args.data_dir, args.out_parent)
    print(f"{out}: {articles} articles, {dated} dates removed")


if __name__ == "__main__":
    main()
