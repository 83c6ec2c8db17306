"""A benchmark split with every article cut short, as the train and validation splits are.

usage: python -m benchmarks.cut_articles DATA_DIR OUT_PARENT [--chars 3000]

The train and validation splits hold article texts cut near 3,000 characters at a line break
(`../shared/benchmarks/README.md`), the dev split whole pages (median 5,546 characters, some
100,000). To tell what comes from the length of the articles apart from what comes from the
period, this writes DATA_DIR's articles cut the same way: each text at its last line break at or
before `--chars` (at `--chars` when it has none), and, as those splits did, keeps only the
questions one of whose gold articles still holds an answer after the cut. Output:
OUT_PARENT/NAME-cutCHARS/{corpus,queries}.jsonl, OUT_PARENT/NAME-whole/ (the whole articles with
the same questions, so that both are compared on one question set: it answers over the split's own
index) and OUT_PARENT/score.py (a link to the scorer). Index the cut one into a copy of the split's
index (passages before the cut keep their vectors).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from benchmarks import variants
from benchmarks.common import load_corpus, load_queries, write_results


def cut(text: str, chars: int) -> str:
    """`text` up to its last line break at or before `chars` characters (whole when shorter)."""
    if len(text) <= chars:
        return text
    at = text.rfind("\n", 0, chars + 1)
    return text[:at].rstrip() if at > 0 else text[:chars]


def write_cut(data_dir: Path, out_parent: Path, chars: int) -> tuple[Path, int, int, int]:
    """The cut split's folder, articles cut, questions kept and questions in the split."""
    out = variants.folder(data_dir, out_parent, f"{data_dir.name}-cut{chars}")
    articles = load_corpus(data_dir)
    shortened = 0
    for article in articles:
        text = article.get("text") or ""
        article["text"] = cut(text, chars)
        shortened += article["text"] != text
    texts = {a["id"]: a["text"].lower() for a in articles}
    queries = load_queries(data_dir)
    kept = [
        q
        for q in queries
        if any(a.lower() in texts.get(g, "") for g in q["gold_ids"] for a in q.get("answers") or [] if a)
    ]
    write_results(out / "corpus.jsonl", articles)
    write_results(out / "queries.jsonl", kept)
    whole = variants.folder(data_dir, out_parent, f"{data_dir.name}-whole")
    shutil.copyfile(data_dir / "corpus.jsonl", whole / "corpus.jsonl")
    write_results(whole / "queries.jsonl", kept)
    return out, shortened, len(kept), len(queries)


def main(argv: list[str] | None = None) -> None:
    chars = ("--chars", {"type": int, "default": 3000, "help": "longest text kept (default 3000)"})
    args = variants.parse(__doc__, argv, [chars])
    out, shortened, kept, questions = write_cut(args.data_dir, args.out_parent, args.chars)
    print(f"{out}: {shortened} articles cut, {kept} of {questions} questions kept")


if __name__ == "__main__":
    main()
