"""Whether two `qa ask --batch --json` outputs agree: same ids and order, same hits, scores within 1e-6.

usage: python -m benchmarks.compare_answers BEFORE.jsonl AFTER.jsonl   (exit 1 when any answer differs)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from benchmarks.common import read_jsonl

FIELDS = ("article_id", "span", "text", "highlight", "highlight_span", "duplicates")


def same_hit(a: dict[str, Any], b: dict[str, Any], tolerance: float = 1e-6) -> bool:
    return all(a[f] == b[f] for f in FIELDS) and abs(a["score"] - b["score"]) <= tolerance


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path, help="`qa ask --batch --json` output")
    parser.add_argument("after", type=Path)
    args = parser.parse_args(argv)
    before, after = read_jsonl(args.before), read_jsonl(args.after)
    if [x["id"] for x in before] != [x["id"] for x in after]:
        print("the two files answer different questions (or in another order)")
        return 1
    differ, hits, largest = 0, 0, 0.0
    for x, y in zip(before, after, strict=True):
        hits += len(x["hits"])
        agree = len(x["hits"]) == len(y["hits"]) and x.get("interpreted") == y.get("interpreted")
        agree = agree and all(same_hit(a, b) for a, b in zip(x["hits"], y["hits"], strict=True))
        largest = max(
            [largest, *(abs(a["score"] - b["score"]) for a, b in zip(x["hits"], y["hits"], strict=False))]
        )
        differ += not agree
    print(f"{len(before)} questions, {hits} hits, {differ} differ, largest score difference {largest:.2e}")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
