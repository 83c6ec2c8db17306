"""CPU time per `ask` (process time, warm query cache): steadier than wall time on a busy machine.

usage: PYTHONPATH=CODE python -m benchmarks.cpu_per_ask LABEL DATA_DIR INDEX_DIR
Run it alternately for two checkouts (PYTHONPATH picks the code under test) and compare medians.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

from qa.service import open_service
from qa.settings import Settings


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("label", help="printed before the figures")
    parser.add_argument("data_dir", type=Path, help="a split: queries.jsonl")
    parser.add_argument("index_dir", type=Path)
    args = parser.parse_args(argv)
    lines = (args.data_dir / "queries.jsonl").read_text(encoding="utf-8").splitlines()
    questions = [json.loads(line)["question"] for line in lines if line.strip()]
    qa = open_service(Settings(index_dir=args.index_dir))
    for question in questions:  # opens the index, fills the question cache
        qa.ask(question, 10)
    spent = []
    for _ in range(3):
        for question in questions:
            started = time.process_time()
            qa.ask(question, 10)
            spent.append((time.process_time() - started) * 1000)
    median, mean = statistics.median(spent), statistics.mean(spent)
    print(f"{args.label} cpu ms per ask: median {median:.3f} mean {mean:.3f}")


if __name__ == "__main__":
    main(sys.argv[1:])
