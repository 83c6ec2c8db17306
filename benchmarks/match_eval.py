"""How well the match model (`qa.retrieval.match`) tells an archive that holds the story from one
that does not yet, on a split it was not fitted on, and what it costs a question.

usage: python -m benchmarks.match_eval DATA_DIR --index-dir DIR [--match FILE] [--json OUT]

The first hits are collected as `qa train-match` collects them (`collect_match`: each dated
question asked of the archive as of its date, a gold first hit a "held" example, and as of 60
days earlier, a first hit holding no answer a "lacking" one; undated and dated). Reported: the
share of each kind the model calls weak (match below its `weak_below`), the area under the ROC
curve, the same for the cosine alone (what a hand-set threshold on it could do at best), the
share of off-topic questions (`OFF_TOPIC`) whose every hit is weak, and the in-process cost of
measuring the match: p50 of `ask` with it over p50 without, interleaved.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import load_queries, split_parser
from qa.match_training import GAP_DAYS, collect_match
from qa.retrieval.match import load_match
from qa.service import open_service
from qa.settings import Settings

# Questions a news archive of 2022–2024 holds nothing on, fixed before any was run.
OFF_TOPIC = (
    "What is the recipe for banana bread?",
    "qwertyuiop zxcvbnm asdfgh",
    "How do I change the chain on a bicycle?",
    "What is the boiling point of water at sea level?",
    "How many legs does a spider have?",
    "Which chess opening starts with e4 c5?",
    "How do you conjugate the Latin verb amare?",
    "What is the best way to store fresh basil?",
    "lorem ipsum dolor sit amet",
    "How do I reset my router password?",
)


def auc(held: np.ndarray, lacking: np.ndarray) -> float:
    """P(a held example scores above a lacking one), ties counting half."""
    if not len(held) or not len(lacking):
        return float("nan")
    above = (held[:, None] > lacking[None, :]).mean()
    ties = (held[:, None] == lacking[None, :]).mean()
    return float(above + 0.5 * ties)


def run(data_dir: Path, index_dir: Path, match_path: Path | None, repeats: int = 3) -> dict[str, Any]:
    base = Settings(index_dir=index_dir)
    unmatched = open_service(
        base.model_copy(update={"retrieval": base.retrieval.model_copy(update={"match": False})})
    )
    matched = open_service(
        base.model_copy(update={"retrieval": base.retrieval.model_copy(update={"match_path": match_path})})
    )
    queries = load_queries(data_dir)
    examples = collect_match(unmatched, queries)
    model = load_match(match_path)
    p = model.probability(examples.x)
    held, lacking = p[examples.labels], p[~examples.labels]
    cosine = examples.x[:, 0]
    answers = _answers(matched, queries)
    off = [matched.ask(q, 5).hits for q in OFF_TOPIC]
    all_weak = sum(all(h.weak for h in hits) for hits in off)
    timing = _timing(unmatched, matched, [q["question"] for q in queries], repeats)
    return {
        "data": data_dir.name,
        "model": str(match_path or "shipped"),
        "held": len(held),
        "lacking": len(lacking),
        "weak below": round(model.weak_below, 4),
        "held called weak": round(float((held < model.weak_below).mean()), 4),
        "lacking called weak": round(float((lacking < model.weak_below).mean()), 4),
        "AUC": round(auc(held, lacking), 4),
        "AUC, cosine alone": round(auc(cosine[examples.labels], cosine[~examples.labels]), 4),
        **answers,
        "off-topic: every hit weak": f"{all_weak}/{len(off)}",
        "off-topic first-hit match": [round(hits[0].match or 0.0, 3) for hits in off if hits],
        **timing,
    }


def _answers(qa: Any, queries: list[dict[str, Any]]) -> dict[str, Any]:
    """Dated questions asked for 5 hits as of their date and as of `GAP_DAYS` earlier: the share of
    answers whose first hit is weak, and whose every hit is (what the page and `qa ask` then say)."""
    counts = {"held": [0, 0, 0], "lacking": [0, 0, 0]}  # answers, first hit weak, every hit weak
    for q in queries:
        if not q.get("date"):
            continue
        day = dt.date.fromisoformat(str(q["date"])[:10])
        for kind, as_of in (("held", day), ("lacking", day - dt.timedelta(days=GAP_DAYS))):
            hits = qa.ask(q["question"], 5, as_of=as_of).hits
            if hits:
                counts[kind][0] += 1
                counts[kind][1] += bool(hits[0].weak)
                counts[kind][2] += all(h.weak for h in hits)
    out: dict[str, Any] = {}
    for kind, (n, first, every) in counts.items():
        out[f"dated answers, {kind}: first hit weak"] = round(first / max(n, 1), 4)
        out[f"dated answers, {kind}: every hit weak"] = round(every / max(n, 1), 4)
    return out


def _timing(unmatched: Any, matched: Any, questions: list[str], repeats: int) -> dict[str, Any]:
    """p50 of `ask` without and with the match, alternating question by question so that the
    machine's load falls on both alike (the vectors are cached first)."""
    unmatched.prepare(questions)
    matched.prepare(questions)
    times: dict[str, list[float]] = {"off": [], "on": []}
    for round_ in range(repeats):
        for q in questions:
            pair = (("off", unmatched), ("on", matched))
            for name, qa in pair if round_ % 2 == 0 else pair[::-1]:
                start = time.perf_counter()
                qa.ask(q, 5)
                times[name].append(time.perf_counter() - start)
    off, on = (float(np.median(times[n])) * 1000 for n in ("off", "on"))
    return {
        "p50 ms, match off": round(off, 3),
        "p50 ms, match on": round(on, 3),
        "p50 ratio": round(on / off, 3),
    }


def main(argv: list[str] | None = None) -> None:
    parser = split_parser(__doc__)
    parser.add_argument("--match", type=Path, help="a match model file (default: the shipped one)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    report = run(args.data_dir, args.index_dir, args.match)
    print(json.dumps(report, indent=1))
    if args.json:
        args.json.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
