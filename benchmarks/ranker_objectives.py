"""Which loss the learned ranker should minimise: a two-fold study on a train index (issue 15).

usage: python -m benchmarks.ranker_objectives collect DATA_DIR --index-dir DIR --out FILE.npz
       python -m benchmarks.ranker_objectives study FILE.npz DATA_DIR [--tau 0.3,0.1] [--json OUT]
       python -m benchmarks.ranker_objectives ablate FILE.npz DATA_DIR --without A,B [--json OUT]

The shipped ranker (`qa.ranker_training.fit`) takes a softmax over a question's candidate passages
and rewards the passages of gold articles that hold an answer. The metrics count articles (each
shows its best passage), so two alternatives are natural: every passage of a gold article a
positive, and a softmax over *articles*, each scored by a soft maximum of its passages
(tau · logsumexp(score / tau); a small tau approaches the maximum, which is what shaping shows).

`collect` saves the candidates of every question, undated and dated, as `qa train-ranker` sees
them, with each one's article and gold flag. `study` splits the questions in two folds by
question text (recurring weekly questions stay in one fold), fits each objective on one fold,
ranks the other, shows one passage per article, and reports Hits@1/5/10, MRR@10 and AnsRec@5
(an answer-holding gold passage among the first five), undated / dated, with paired-bootstrap
intervals against the shipped objective. It first checks that its baseline, fitted on all the
candidates, scores them as `qa.ranker_training.fit` does.

`ablate` asks the same folds what some features add: the shipped loss fitted on every feature
against the same fit without the `--without` columns (named as in `qa.retrieval.features`).
"""

from __future__ import annotations

import argparse
import json
import zlib
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import minimize
from scipy.special import logsumexp

from benchmarks.common import paired_bootstrap
from qa.ranker_training import (
    Examples,
    _group_softmax,
    _useful_groups,
    question_candidates,
    read_queries,
)
from qa.ranker_training import fit as shipped_fit
from qa.retrieval.features import FEATURES
from qa.service import open_service
from qa.settings import Settings

METRICS = ("Hits@1", "Hits@5", "Hits@10", "MRR@10", "AnsRec@5")
ANY_ANSWER = "AnsRec@5 any"
SETTINGS = ("undated", "dated")


def collect(data_dir: Path, index_dir: Path, out: Path) -> None:
    qa = open_service(Settings(index_dir=index_dir))
    queries = read_queries(data_dir / "queries.jsonl")
    found = list(question_candidates(qa, queries))
    np.savez_compressed(
        out,
        x=np.concatenate([f.x for f in found]),
        answer=np.concatenate([f.labels for f in found]),
        gold=np.concatenate([f.gold for f in found]),
        article=np.concatenate([np.asarray(f.columns.articles) for f in found]),
        question=np.concatenate([np.full(len(f.ids), f.number) for f in found]),
        dated=np.concatenate([np.full(len(f.ids), f.dated) for f in found]),
        features=np.array(FEATURES),
    )
    print(f"{out}: {sum(len(f.ids) for f in found)} candidates of {len(found)} question-settings")


class Candidates:
    """Saved candidates (a file `collect` wrote, or its arrays), rows ordered by (question-setting,
    article): `order` takes the saved rows to these. `answer_any`, where saved
    (`benchmarks.ranker_probes collect`): the candidate's text holds an answer string, whatever its
    article."""

    def __init__(self, source: Path | dict[str, np.ndarray], queries: list[dict[str, Any]]) -> None:
        if isinstance(source, dict):
            data = source
        else:
            with np.load(source) as d:
                data = {k: d[k] for k in d.files}
        group = data["question"] * 2 + data["dated"]
        self.order = order = np.lexsort((data["article"], group))
        self.x = data["x"][order]
        self.features = [str(f) for f in data["features"]] if "features" in data else []
        self.answer, self.gold = data["answer"][order], data["gold"][order]
        self.answer_any = data["answer_any"][order] if "answer_any" in data else None
        self.article, self.group = data["article"][order], group[order]
        texts = [q["question"].strip().lower().encode() for q in queries]
        self.fold = np.array([zlib.crc32(texts[g // 2]) % 2 for g in self.group.tolist()])


def _starts(*keys: np.ndarray) -> np.ndarray:
    change = np.zeros(len(keys[0]) - 1, bool)
    for key in keys:
        change |= key[1:] != key[:-1]
    return np.flatnonzero(np.r_[True, change])


def fit(
    c: Candidates,
    rows: np.ndarray,
    positive: np.ndarray,
    tau: float | None,
    l2: float = 0.01,
    weights: np.ndarray | None = None,
) -> np.ndarray:
    """Weights `(F + 1,)`: score = x @ w[:-1] + w[-1] (the standardisation of `rows` folded in).

    `tau` None: a softmax over passages, the `positive` ones rewarded (the shipped loss); else a
    softmax over articles scored tau · logsumexp(passage scores / tau), an article holding a
    positive passage rewarded. `weights`, indexed by question number: each question's share of
    the loss (None: equal shares, the shipped loss).
    """
    tau_ = 1.0 if tau is None else tau
    rows = rows[_useful_groups(Examples(c.x[rows], positive[rows], c.group[rows]))]
    x, group, article, pos = c.x[rows], c.group[rows], c.article[rows], positive[rows]
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    z = (x - mean) / scale
    a_starts = np.arange(len(rows)) if tau is None else _starts(group, article)
    a_count = np.diff(np.r_[a_starts, len(rows)])
    g_starts = _starts(group[a_starts])
    a_pos = np.maximum.reduceat(pos.astype(np.float64), a_starts) > 0
    share = np.ones(len(g_starts)) if weights is None else weights[group[a_starts][g_starts] // 2]
    total = float(share.sum())
    a_share = np.repeat(share, np.diff(np.r_[g_starts, len(a_starts)]))

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        within, lse = _group_softmax(z @ w / tau_, a_starts)
        score = tau_ * lse
        p, lse_all = _group_softmax(score, g_starts)
        q, lse_pos = _group_softmax(np.where(a_pos, score, -np.inf), g_starts)
        value = float((share * (lse_all - lse_pos)).sum()) / total + 0.5 * l2 * float(w @ w)
        grad = z.T @ (np.repeat(a_share * (p - q), a_count) * within) / total + l2 * w
        return value, grad

    w = minimize(loss, np.zeros(z.shape[1]), jac=True, method="L-BFGS-B", options={"maxiter": 500}).x
    return np.r_[w / scale, -float((mean / scale) @ w)]


def score(c: Candidates, rows: np.ndarray, model: np.ndarray) -> dict[str, np.ndarray]:
    """Per question-setting of `rows`, in order: each metric, `dated` (1 for the dated setting) and
    `loss`, the shipped loss of the setting (NaN where no candidate, or every one, holds an answer);
    with `c.answer_any`, also `ANY_ANSWER` (an answer string in one of the first five shown, any
    article's passage, as `score.py`'s AnsRec@5 counts it)."""
    s = c.x @ model[:-1] + model[-1]
    out: dict[str, list[float]] = {m: [] for m in (*METRICS, "dated", "loss")}
    if c.answer_any is not None:
        out[ANY_ANSWER] = []
    starts = _starts(c.group[rows])
    for begin, end in zip(starts, np.r_[starts[1:], len(rows)], strict=True):
        block = rows[begin:end]
        shown, seen = [], set()
        for i in block[np.argsort(-s[block], kind="stable")].tolist():
            if c.article[i] not in seen:
                seen.add(c.article[i])
                shown.append(i)
            if len(shown) == 10:
                break
        if c.answer_any is not None:
            out[ANY_ANSWER].append(float(c.answer_any[shown[:5]].any()))
        first = next((r for r, i in enumerate(shown) if c.gold[i]), None)
        out["dated"].append(float(c.group[block[0]] % 2))
        for k in (1, 5, 10):
            out[f"Hits@{k}"].append(float(first is not None and first < k))
        out["MRR@10"].append(0.0 if first is None else 1.0 / (first + 1))
        out["AnsRec@5"].append(float(any(c.answer[i] for i in shown[:5])))
        wanted = c.answer[block]
        if wanted.any() and not wanted.all():
            out["loss"].append(float(logsumexp(s[block]) - logsumexp(s[block][wanted])))
        else:
            out["loss"].append(float("nan"))
    return {m: np.array(v) for m, v in out.items()}


def check_baseline(c: Candidates) -> float:
    """The largest difference between the scores of this study's baseline and of the shipped
    trainer (`qa.ranker_training.fit`), both fitted on all of `c`: the baseline is the shipped
    loss only if it is about zero."""
    ours = fit(c, np.arange(len(c.x)), c.answer, None)
    names = tuple(f"f{i}" for i in range(c.x.shape[1]))
    shipped = shipped_fit(Examples(c.x, c.answer, c.group), features=names).score(c.x)
    return float(np.max(np.abs(c.x @ ours[:-1] + ours[-1] - shipped)))


def two_folds(
    c: Candidates, positive: np.ndarray, tau: float | None = None, l2: float = 0.01
) -> dict[str, dict[str, np.ndarray]]:
    """Per setting, each metric (`ANY_ANSWER` too where `score` gives it) and the held-out loss of
    every question-setting, each fold ranked by the model fitted on the other."""
    parts = []
    for f in (0, 1):
        model = fit(c, np.flatnonzero(c.fold != f), positive, tau, l2)
        parts.append(score(c, np.flatnonzero(c.fold == f), model))
    joined = {m: np.r_[parts[0][m], parts[1][m]] for m in parts[0]}
    return {
        setting: {m: v[joined["dated"] == d] for m, v in joined.items() if m != "dated"}
        for d, setting in enumerate(SETTINGS)
    }


def study(c: Candidates, taus: list[float], l2s: tuple[float, ...] = ()) -> dict[str, Any]:
    """Each loss against the shipped one (L2 0.01); `l2s`: the shipped loss with other strengths."""
    variants: dict[str, tuple[np.ndarray, float | None, float]] = {
        "shipped: answer-holding passages": (c.answer, None, 0.01),
        "every gold passage": (c.gold, None, 0.01),
    }
    for tau in taus:
        variants[f"gold articles, tau {tau}"] = (c.gold, tau, 0.01)
        variants[f"answer-holding articles, tau {tau}"] = (c.answer, tau, 0.01)
    for l2 in l2s:
        variants[f"shipped loss, L2 {l2}"] = (c.answer, None, l2)
    per = {name: two_folds(c, positive, tau, l2) for name, (positive, tau, l2) in variants.items()}
    base = per["shipped: answer-holding passages"]
    report: dict[str, Any] = {}
    for name, block in per.items():
        report[name] = {}
        for setting in SETTINGS:
            row: dict[str, Any] = {m: round(float(block[setting][m].mean()), 4) for m in METRICS}
            row["held-out loss"] = round(float(np.nanmean(block[setting]["loss"])), 4)
            if block is not base:
                for m in METRICS:
                    low, high, _ = paired_bootstrap(block[setting][m], base[setting][m])
                    diff = float((block[setting][m] - base[setting][m]).mean())
                    row[f"{m} diff"] = {"diff": round(diff, 4), "ci95": [round(low, 4), round(high, 4)]}
            report[name][setting] = row
    return report


def ablate(c: Candidates, without: list[str]) -> dict[str, Any]:
    """Every feature against every feature but `without`, shipped loss, two folds."""
    unknown = sorted(set(without) - set(c.features))
    if unknown:
        raise SystemExit(f"not features of these candidates: {', '.join(unknown)}")
    keep = np.array([name not in without for name in c.features])
    full = c.x
    every = two_folds(c, c.answer)
    c.x = full[:, keep]
    try:
        fewer = two_folds(c, c.answer)
    finally:
        c.x = full
    report: dict[str, Any] = {}
    for setting in SETTINGS:
        row: dict[str, Any] = {}
        for m in METRICS:
            low, high, _ = paired_bootstrap(every[setting][m], fewer[setting][m])
            row[m] = {
                "every feature": round(float(every[setting][m].mean()), 4),
                "without": round(float(fewer[setting][m].mean()), 4),
                "diff": round(float((every[setting][m] - fewer[setting][m]).mean()), 4),
                "ci95": [round(low, 4), round(high, 4)],
            }
        report[setting] = row
    return {"without": without, "questions": len(set((c.group // 2).tolist())), "settings": report}


def subcommands(parser: argparse.ArgumentParser, *names: str) -> tuple[Any, list[argparse.ArgumentParser]]:
    """The `collect DATA_DIR --index-dir DIR --out FILE` subcommand these candidate studies share,
    then one subcommand per name taking `CANDIDATES DATA_DIR` (a collected file and its split):
    the subparsers (to add others) and the named ones, in order."""
    sub = parser.add_subparsers(dest="command", required=True)
    collect_ = sub.add_parser("collect")
    collect_.add_argument("data_dir", type=Path)
    collect_.add_argument("--index-dir", type=Path, required=True)
    collect_.add_argument("--out", type=Path, required=True)
    out = []
    for name in names:
        p = sub.add_parser(name)
        p.add_argument("candidates", type=Path)
        p.add_argument("data_dir", type=Path, help="the split the candidates were collected from")
        out.append(p)
    return sub, out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    _, (p, a) = subcommands(parser, "study", "ablate")
    p.add_argument("--tau", default="0.3,0.1")
    p.add_argument("--l2", default="", help="other L2 strengths for the shipped loss, comma-separated")
    p.add_argument("--json", type=Path)
    a.add_argument("--without", required=True, help="features to leave out, comma-separated")
    a.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    if args.command == "collect":
        collect(args.data_dir, args.index_dir, args.out)
        return
    queries = read_queries(args.data_dir / "queries.jsonl")
    candidates = Candidates(args.candidates, queries)
    if args.command == "ablate":
        result = ablate(candidates, [f for f in args.without.split(",") if f])
        for setting, row in result["settings"].items():
            print(f"{setting}, {result['questions']} questions: every feature against without {args.without}")
            for m, d in row.items():
                print(
                    f"  {m:9} {d['every feature']:.4f} vs {d['without']:.4f}  "
                    f"{d['diff']:+.4f} [{d['ci95'][0]:+.3f},{d['ci95'][1]:+.3f}]"
                )
        if args.json:
            args.json.write_text(json.dumps(result, indent=1))
        return
    gap = check_baseline(candidates)
    print(f"baseline against the shipped trainer: largest score difference {gap:.2e}")
    if gap > 1e-3:
        raise SystemExit("the study's baseline does not reproduce the shipped loss")
    l2s = tuple(float(v) for v in args.l2.split(",") if v)
    report = study(candidates, [float(t) for t in args.tau.split(",") if t], l2s)
    for name, block in report.items():
        for setting, row in block.items():
            cells = "  ".join(f"{m} {row[m]:.4f}" for m in (*METRICS, "held-out loss"))
            diffs = "  ".join(
                f"{m.split()[0]} {d['diff']:+.4f} [{d['ci95'][0]:+.3f},{d['ci95'][1]:+.3f}]"
                for m, d in row.items()
                if isinstance(d, dict)
            )
            print(f"{name:36} {setting:8} {cells}")
            if diffs:
                print(f"{'':45} vs shipped: {diffs}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
