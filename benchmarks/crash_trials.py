"""Crash trials: SIGKILL writers (`qa index`, `POST /articles`) at random moments; the index must survive.

Each trial copies an index in state A, starts a subprocess (`tests/support/driver.py`) that applies a
batch of changes (adds, updates and one delete), and kills it with SIGKILL either at a uniform
moment of the expected duration or, densely, between its last embedding batch and a little past
the last replacement of CURRENT (the commit and the version swap, timed in an unkilled run).
Then the index must open, check clean, and show exactly state A or exactly the batch applied
(for the API, each request is one step: A, then the POST, then the DELETE). A writer run
afterwards must finish the batch and clean up the dead writer's leftovers.

    python -m benchmarks.crash_trials --trials 50
    python -m benchmarks.crash_trials --trials 24 --backend milvus   # writes into Milvus Lite

For the milvus backend the commit window is timed from the last embedding batch to the writer's
exit (a Milvus Lite file is open in the writer's process alone), and a writer's leftovers are rows
above the last commit and retirements not yet purged.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

from tests.support.backends import BACKENDS_AT
from tests.support.crash import MODES, POLICIES, CrashHarness, make_plan, summarise


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--sleep", type=float, default=0.15, help="seconds the fake encoder sleeps per batch")
    parser.add_argument("--workdir", type=Path, help="keep trial files here (default: a temporary dir)")
    parser.add_argument("--json", type=Path, help="also write every trial's result here")
    parser.add_argument("--backend", choices=sorted(BACKENDS_AT), default="local", help="the index's backend")
    args = parser.parse_args(argv)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="crash-trials-"))
    workdir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    results = []
    harness = CrashHarness(workdir, make_plan(seed=args.seed), args.sleep, args.backend)
    for mode in MODES:
        t = harness.calibrate(mode)
        print(
            f"calibrated {mode}: {t.total:.2f}s, {t.markers} batches, {t.tail:.2f}s from the last to the swap"
        )
    rng = random.Random(args.seed)
    for n in range(args.trials):
        r = harness.trial(n, MODES[n % 2], POLICIES[(n // 2) % 2], rng)
        results.append(r)
        print(
            f"trial {n:3d} {r.mode:3} {r.policy:8} kill@{r.kill_after:6.3f}s killed={r.killed!s:5}"
            f" phase={r.phase:9} state={r.state:5} leftovers={len(r.leftovers)}"
            f" {'ok' if r.ok else 'FAIL ' + '; '.join(r.problems + r.recovery_problems)}",
            flush=True,
        )
    summary = summarise(results) | {"backend": args.backend, "seconds": round(time.monotonic() - started, 1)}
    print(json.dumps(summary, indent=2))
    if args.json:
        args.json.write_text(
            json.dumps({"summary": summary, "trials": [asdict(r) for r in results]}, indent=2)
        )
    if not args.workdir:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0 if summary["failures"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
