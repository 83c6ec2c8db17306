"""Scores by how old a question's gold articles are: where the margins over the references lie (issue 15).

usage: python -m benchmarks.gold_age DATA_DIR --run NAME=RESULTS.jsonl [--run ...] [--baseline NAME]
       [--target METRIC=MARGIN ...] [--json OUT]
       python -m benchmarks.gold_age DATA_DIR --notes INDEX_DIR [--json OUT]
       python -m benchmarks.gold_age DATA_DIR --unlabelled --run NAME=RESULTS.jsonl [--run ...]

A RealTime QA question asks about its week ("... this week?"), but its gold articles are those of
the split's archive that hold the answer, and for many questions the archive holds no article of
that week: the gold ones are background pages, months or years older than the question. A ranking
that weighs recency (rightly, for the rest) and a date-blind reference meet on different ground in
the two cases, so this splits every metric by the age of the question's newest gold article
(days from its date to the question's, among gold articles dated on or before the question):

- `fresh`: 0–14 days; `recent`: 15–60 days; `old`: over 60 days;
- `later`: every dated gold article is after the question (the dated setting cannot find them);
- `undated`: no gold article has a date; `absent`: no gold article is in the corpus.

Each `--run` is a results file in score.py's format (`benchmarks.held_out --save`,
`benchmarks.references --out`). The first run, or `--baseline`, is what the others are compared
with: per bucket, the difference of each metric with a paired-bootstrap 95 % interval.

`--target Hits@10=0.05` (a margin over the baseline, as the issue's "Done when" sets them) adds,
for each other run, that margin in questions: how many it needs, how many each bucket gives now,
how many each bucket could give at most (every question of it a hit), and the margin the `old`
bucket would need if `fresh` and `recent` gave their most (the others as they give now).

`--notes INDEX_DIR` asks each question over that index (default settings, k=10, as of the
question's date) and counts, per bucket, how the answer read its time words: no window, a
filtering window, a window some hits lie inside, or one that none does, when the answer says
"none of the answers is from that window". That note claims the archive holds nothing of that time;
the `old` bucket is where it is right.

`--unlabelled` asks whether the gold labels miss that week's news: a split's gold articles are
those a web search returned *for that question*, so an article of the same week that answers it
but was returned for another question counts as a miss. Per bucket and run it counts the
questions with a gold article in the top k (1, 5, 10), and those with a gold article *or* an
unlabelled fresh answer: an article outside the gold ones, 0-14 days older than the question,
whose shown text holds an answer string. If the second count rose far above the first, the
margins would be a matter of labels, not ranking.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import load_corpus, load_queries, paired_bootstrap, per_query_scores, read_jsonl
from benchmarks.variants import check_split

BUCKETS = ("fresh", "recent", "old", "later", "undated", "absent")
METRICS = ("Hits@1", "Hits@5", "Hits@10", "MRR@10", "AnsRec@5")


def _day(value: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def gold_age(question: dict[str, Any], days: dict[str, dt.date | None]) -> int | None:
    """Days from the question's newest gold article dated on or before it to the question's date;
    -1 when every dated gold article is later; None when none is dated (or the question is not);
    -2 when no gold article is in the corpus (`days` holds every article of it)."""
    gold = [g for g in question.get("gold_ids") or [] if g in days]
    if not gold:
        return -2
    asked = _day(question.get("date"))
    dated = [d for g in gold if (d := days[g]) is not None]
    if asked is None or not dated:
        return None
    before = [(asked - d).days for d in dated if d <= asked]
    return min(before) if before else -1


def bucket(age: int | None) -> str:
    if age is None:
        return "undated"
    if age == -2:
        return "absent"
    if age < 0:
        return "later"
    return "fresh" if age <= 14 else "recent" if age <= 60 else "old"


def corpus_days(data_dir: Path) -> dict[str, dt.date | None]:
    """Each article's date (None when it has none), by id."""
    return {str(a["id"]): _day(a.get("date")) for a in load_corpus(data_dir)}


def buckets(data_dir: Path, days: dict[str, dt.date | None] | None = None) -> np.ndarray:
    """Each question's bucket, in the order of `data_dir/queries.jsonl` (`days`: `corpus_days`,
    when already read)."""
    days = corpus_days(data_dir) if days is None else days
    return np.array([bucket(gold_age(q, days)) for q in load_queries(data_dir)])


def breakdown(data_dir: Path, runs: dict[str, Path], baseline: str) -> dict[str, Any]:
    """Per bucket: its questions, each run's mean of each metric, and each other run's paired
    difference to `baseline` with a 95 % interval."""
    labels = buckets(data_dir)
    scores = {name: per_query_scores(data_dir / "queries.jsonl", read_jsonl(p)) for name, p in runs.items()}
    report: dict[str, Any] = {}
    for name in (*BUCKETS, "all"):
        rows = np.ones(len(labels), bool) if name == "all" else labels == name
        if not rows.any():
            continue
        entry: dict[str, Any] = {
            "questions": int(rows.sum()),
            "share": round(float(rows.mean()), 4),
            "runs": {},
        }
        for run, s in scores.items():
            means = {m: round(float(s[m][rows].mean()), 4) for m in METRICS}
            if run != baseline:
                for m in METRICS:
                    low, high, _ = paired_bootstrap(s[m][rows], scores[baseline][m][rows])
                    diff = float((s[m][rows] - scores[baseline][m][rows]).mean())
                    means[f"{m} diff"] = [round(diff, 4), round(low, 4), round(high, 4)]
            entry["runs"][run] = means
        report[name] = entry
    return report


def headroom(report: dict[str, Any], baseline: str, targets: dict[str, float]) -> dict[str, Any]:
    """Per other run and target metric: the target margin counted in questions, bucket by bucket."""
    out: dict[str, Any] = {}
    buckets = [b for b in BUCKETS if b in report]
    total = report["all"]["questions"]
    for run in report["all"]["runs"]:
        if run == baseline:
            continue
        for metric, margin in targets.items():
            now, most = {}, {}
            for b in buckets:
                n, means = report[b]["questions"], report[b]["runs"]
                now[b] = round((means[run][metric] - means[baseline][metric]) * n, 1)
                most[b] = round((1.0 - means[baseline][metric]) * n, 1)
            entry: dict[str, Any] = {
                "needed": round(margin * total, 1),
                "now": now,
                "at most": most,
                "short": round(margin * total - sum(now.values()), 1),
            }
            if "old" in report:
                rest = sum(most[b] if b in ("fresh", "recent") else now[b] for b in buckets if b != "old")
                entry["old margin needed, fresh and recent at most"] = round(
                    (margin * total - rest) / report["old"]["questions"], 4
                )
                entry["old margin now"] = round(now["old"] / report["old"]["questions"], 4)
            out[f"{run} {metric}"] = entry
    return out


def show_headroom(found: dict[str, Any]) -> None:
    for key, e in found.items():
        cells = ", ".join(f"{b} {v:+.1f} (at most {e['at most'][b]:.1f})" for b, v in e["now"].items())
        print(f"-- {key}: needs {e['needed']:.1f} questions, has {sum(e['now'].values()):.1f}: {cells}")
        if "old margin now" in e:
            print(
                f"   short {e['short']:.1f}; even with fresh and recent at their most, old would need "
                f"{e['old margin needed, fresh and recent at most']:+.3f} (now {e['old margin now']:+.3f})"
            )


def window_notes(data_dir: Path, index_dir: Path) -> dict[str, dict[str, int]]:
    """Per bucket: how many answers read no window, a filtering one, one with hits inside, none inside."""
    from qa.service import open_service
    from qa.settings import Settings

    qa = open_service(Settings(index_dir=index_dir))
    states = ("no window", "filtered", "some inside", "none inside")
    out = {b: dict.fromkeys(states, 0) for b in BUCKETS}
    for q, label in zip(load_queries(data_dir), buckets(data_dir), strict=True):
        asked = _day(q.get("date"))
        read = qa.ask(q["question"], k=10, as_of=asked).interpreted
        if read is None:
            state = "no window"
        elif read.filtered:
            state = "filtered"
        else:
            state = "none inside" if read.inside == 0 else "some inside"
        out[str(label)][state] += 1
    return {b: counts for b, counts in out.items() if sum(counts.values())}


def unlabelled(data_dir: Path, runs: dict[str, Path]) -> dict[str, dict[str, dict[str, int]]]:
    """Per bucket and run: questions with a gold article among the first k hits (`gold@k`), and
    with a gold article or an unlabelled fresh answer among them (`gold or fresh answer@k`)."""
    days = corpus_days(data_dir)
    queries = load_queries(data_dir)
    labels = buckets(data_dir, days)
    out: dict[str, dict[str, dict[str, int]]] = {}
    for run, path in runs.items():
        hits_of = {str(r["id"]): r.get("hits") or [] for r in read_jsonl(path)}
        for q, label in zip(queries, labels, strict=True):
            asked, gold = _day(q.get("date")), set(q.get("gold_ids") or [])
            answers = [a.lower() for a in q.get("answers") or []]
            first_gold = first_any = None
            for rank, hit in enumerate(hits_of.get(str(q["id"]), [])[:10]):
                day = days.get(str(hit.get("article_id")))
                fresh = asked is not None and day is not None and 0 <= (asked - day).days <= 14
                text = (hit.get("text") or "").lower()
                if hit.get("article_id") in gold:
                    first_gold = rank if first_gold is None else first_gold
                    first_any = rank if first_any is None else first_any
                elif fresh and any(a in text for a in answers):
                    first_any = rank if first_any is None else first_any
            counts = out.setdefault(str(label), {}).setdefault(run, {})
            for k in (1, 5, 10):
                counts[f"gold@{k}"] = counts.get(f"gold@{k}", 0) + (first_gold is not None and first_gold < k)
                key = f"gold or fresh answer@{k}"
                counts[key] = counts.get(key, 0) + (first_any is not None and first_any < k)
    return {b: out[b] for b in BUCKETS if b in out}


def show_unlabelled(found: dict[str, dict[str, dict[str, int]]]) -> None:
    for name, per_run in found.items():
        print(f"== {name}")
        for run, c in per_run.items():
            cells = "  ".join(
                f"@{k} {c[f'gold@{k}']:3d} -> {c[f'gold or fresh answer@{k}']:3d}" for k in (1, 5, 10)
            )
            print(f"  {run:14s} {cells}")
    print("(questions with a gold article in the top k -> with a gold article or an unlabelled fresh answer)")


def metric_cells(row: dict[str, Any]) -> str:
    """`Hits@1 0.650 +0.133 [+0.086, +0.180]  ...`: each metric's mean, and its difference with its
    interval where `row` holds one (`"METRIC diff": [diff, low, high]`)."""
    cells = []
    for m in METRICS:
        cell = f"{m} {row[m]:.3f}"
        if f"{m} diff" in row:
            d, low, high = row[f"{m} diff"]
            cell += f" {d:+.3f} [{low:+.3f}, {high:+.3f}]"
        cells.append(cell)
    return "  ".join(cells)


def show(report: dict[str, Any], baseline: str) -> None:
    for name, entry in report.items():
        print(f"== {name}: {entry['questions']} questions ({entry['share']:.0%})")
        for run, means in entry["runs"].items():
            print(f"  {run:12s}", metric_cells(means))
    print(f"(differences: each run minus {baseline}, paired bootstrap 95 %, 10,000 rounds, seed 0)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("data_dir", type=Path, help="a split: corpus.jsonl, queries.jsonl, ../score.py")
    parser.add_argument("--run", action="append", default=[], metavar="NAME=RESULTS.jsonl")
    parser.add_argument("--notes", type=Path, metavar="INDEX_DIR", help="count the answers' window notes")
    parser.add_argument(
        "--unlabelled", action="store_true", help="count the runs' unlabelled fresh answers per bucket"
    )
    parser.add_argument("--baseline", help="the run the others are compared with (default: the first)")
    parser.add_argument("--target", action="append", default=[], metavar="METRIC=MARGIN")
    parser.add_argument("--json", type=Path, help="write the breakdown there too")
    args = parser.parse_args(argv)
    if bool(args.run) == bool(args.notes):
        parser.error("give either --run (one or more) or --notes")
    if args.unlabelled and not args.run:
        parser.error("--unlabelled counts in runs: give --run")
    targets: dict[str, float] = {}
    for spec in args.target:
        metric, sep, value = spec.partition("=")
        try:
            targets[metric] = float(value)
        except ValueError:
            parser.error(f"--target wants METRIC=MARGIN, got {spec!r}")
        if not sep or metric not in METRICS:
            parser.error(f"--target wants one of {', '.join(METRICS)}=MARGIN, got {spec!r}")
    runs: dict[str, Path] = {}
    for spec in args.run:
        name, sep, path = spec.partition("=")
        if not sep or not name or not path:
            parser.error(f"--run wants NAME=RESULTS.jsonl, got {spec!r}")
        if name in runs:
            parser.error(f"run {name!r} given twice")
        if not Path(path).is_file():
            parser.error(f"{path} not found")
        runs[name] = Path(path)
    check_split(parser, args.data_dir)
    if args.unlabelled:
        found = unlabelled(args.data_dir, runs)
        show_unlabelled(found)
        if args.json:
            args.json.write_text(json.dumps({"unlabelled": found}, indent=1) + "\n")
        return
    if args.notes:
        notes = window_notes(args.data_dir, args.notes)
        for name, counts in notes.items():
            print(f"{name:8s}", "  ".join(f"{state} {n:3d}" for state, n in counts.items()))
        if args.json:
            args.json.write_text(json.dumps({"window notes": notes}, indent=1) + "\n")
        return
    baseline = args.baseline or next(iter(runs))
    if baseline not in runs:
        parser.error(f"--baseline {baseline!r} is not one of the runs: {', '.join(runs)}")
    report = breakdown(args.data_dir, runs, baseline)
    show(report, baseline)
    found = headroom(report, baseline, targets)
    show_headroom(found)
    if args.json:
        out = {"baseline": baseline, "buckets": report, "targets": found}
        args.json.write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
