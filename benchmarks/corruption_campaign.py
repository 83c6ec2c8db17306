"""The full corruption campaign: CURRENT and each file of a version, cut and flipped; check, serve, API.

    python -m benchmarks.corruption_campaign --articles 200                  # built from the benchmark corpus
    python -m benchmarks.corruption_campaign --index /work/cmp/idx-q1        # a copy of an existing index

Each of the 16 files (CURRENT and the 15 of a version) is damaged four ways (cut to half, cut to
zero, the first 64 bytes flipped, 64 bytes in the middle flipped), one at a time, on a copy; the
judges are those of `tests/support/campaign.py`. An index written before checksums existed gets
them recorded in its copy first (as its next write would). Prints a table per file and the totals.
"""

from __future__ import annotations

import argparse
import itertools
import json
import shutil
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

from embeddings.encoders import load_encoder
from embeddings.readers import iter_articles
from qa.service import QAService
from tests.support.campaign import Campaign, CaseResult, summarise
from tests.support.damage import DAMAGES, live_version

DATA = Path("../shared/benchmarks/realtimeqa-2024q1")


def table(results: list[CaseResult]) -> str:
    """A Markdown table: one row per file, one column per damage (check lines; refused or not)."""
    rows = ["| file | " + " | ".join(DAMAGES) + " |", "|---|" + "---|" * len(DAMAGES)]
    for file, cases in itertools.groupby(results, key=lambda r: r.file):
        cells = ["ok" if r.ok else "FAIL " + _why(r) for r in cases]
        rows.append(f"| `{file}` | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def _why(r: CaseResult) -> str:
    judges = {
        "check": r.detected,
        "serve": r.serve_refused,
        "ask": r.ask_refused,
        "started": r.started_refused,
        "running": r.running_wrong_200 == 0 and r.running_health_503,
        "clean": not r.tracebacks and not r.leaks,
    }
    return ",".join(name for name, passed in judges.items() if not passed)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, help="an existing index (copied, never written)")
    parser.add_argument("--articles", type=int, default=200, help="without --index: articles to index")
    parser.add_argument("--data", type=Path, default=DATA, help="benchmark directory with corpus.jsonl")
    parser.add_argument("--json", type=Path, help="also write every case here")
    args = parser.parse_args(argv)
    encoder = load_encoder(None)
    work = Path(tempfile.mkdtemp(prefix="qa-campaign-"))

    def service(root: Path) -> QAService:
        return QAService(root, encoder, reload_interval=0)

    try:
        source = work / "source"
        started = time.monotonic()
        if args.index:
            shutil.copytree(args.index, source)
            from benchmarks.bench_checksums import stamp
            from embeddings.backends.local.versions import Manifest

            if Manifest.read(live_version(source)).files is None:
                stamp(live_version(source))
        else:
            articles = itertools.islice(iter_articles([args.data / "corpus.jsonl"]), args.articles)
            service(source).add(articles)
        reader = service(source).reader()
        first = reader.article(reader.rows.article_ids()[0])  # type: ignore[attr-defined]
        built = time.monotonic() - started
        campaign = Campaign(source, work, service, first.id, first.title)
        results = [campaign.run(file, damage) for file in campaign.files() for damage in DAMAGES]
        summary = {
            "index": str(args.index or f"{args.articles} articles of {args.data}"),
            "passages": reader.info.passages,
            **summarise(results),
            "seconds": {"index": round(built, 1), "campaign": round(time.monotonic() - started - built, 1)},
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(table(results))
    print(json.dumps(summary, indent=2))
    for r in results:
        if not r.ok:
            print(r)
    if args.json:
        args.json.write_text(json.dumps([asdict(r) | {"ok": r.ok} for r in results], indent=1, default=str))
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
