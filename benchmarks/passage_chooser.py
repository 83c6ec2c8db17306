"""Which passage of a shown article to display: a second model for it, probed (issue 15, AnsRec@5).

usage: python -m benchmarks.passage_chooser collect DATA_DIR --index-dir DIR --out FILE.npz
       python -m benchmarks.passage_chooser study FILE.npz DATA_DIR [--cues A,B] [--json OUT]
       python -m benchmarks.passage_chooser ask DATA_DIR --index-dir DIR --train FILE.npz
              --train-data TRAIN_DIR [--cues A,B] [--json OUT]

Each shown article displays its best-ranked candidate passage. On train, for about half of the
questions whose first five articles display no answer string, another candidate passage of one of
those same articles holds one (`oracle` in `study`). The ranker's passage features cannot tell
those passages apart within an article; answer cues might: how many names and how many numbers a
passage holds, and both again for a question that asks for a number ("how many", "what
percentage", ...): `CUES`, the default of `--cues`. Nothing here reads a list of places or
people. `collect` also saves `answer_sentence`, the shipped highlighter's score of the passage's
best prose sentence, a learned cue to try with `--cues`.

- `collect` saves every train question's candidates (undated and dated) with the shipped
  features, the cues, the shipped positives and which candidates' text holds an answer string.
- `study` fits, on the two folds of `benchmarks.ranker_objectives`, a chooser: the shipped
  listwise loss with each article's candidates a group and the answer-holding ones positives,
  over the shipped features with or without the cues. Articles stay in the ranker's order; each
  of the first five displays the chooser's best passage. Prints AnsRec@5 (an answer string in a
  displayed passage of a gold article, and of any article as `score.py` counts it) against
  displaying the ranker's best, with paired-bootstrap intervals.
- `ask` fits the chooser (with the cues) on all of a `collect` file and answers DATA_DIR
  end to end, as of today and as of each question's date, with and without it (through the
  reranker hook: the chooser's passage takes its article's best score, so the order of articles
  and every Hits figure stay as they are), and prints the paired differences.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import paired_bootstrap
from benchmarks.held_out import compare
from benchmarks.ranker_objectives import SETTINGS, Candidates, _starts, subcommands
from qa.ranker_training import Examples, fit, question_candidates, read_queries
from qa.retrieval import RetrievalConfig
from qa.retrieval.features import FEATURES
from qa.retrieval.highlight import _learned_scores  # how highlights score sentences
from qa.retrieval.highlighter import load_highlighter
from qa.retrieval.learned import LinearRanker
from qa.retrieval.rerankers import RerankInput, keep_order
from qa.retrieval.sentence_features import analyse_passage
from qa.retrieval.shaping import choose, corpus_idf
from qa.service import open_service
from qa.settings import Settings

CUES = ("names", "numbers", "names_number", "numbers_number")
# collected too, chosen with --cues: the shipped highlighter's score of the passage's best sentence
# (prose first, as highlights pick), with the archive's idf as serving uses it
COLLECTED = (*CUES, "answer_sentence")
_NUMBER_QUESTION = re.compile(r"\bhow (many|much|long|old)\b|\bwhat (percentage|percent|year|age)\b", re.I)
_NAME = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][\w'’&-]+")  # capitalised, not starting a sentence
_NUMBER = re.compile(
    r"\b\d[\d,.]*\b%?|\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|dozen|hundred"
    r"|thousand|million|billion|trillion|half|twice|first|second|third)\b",
    re.I,
)


def asks_number(question: str) -> bool:
    return _NUMBER_QUESTION.search(question) is not None


def cues(text: str, number: bool) -> np.ndarray:
    """`(len(CUES),)`: log(1 + distinct names), log(1 + distinct numbers), and both again when
    the question asks for a number (zero otherwise)."""
    names = np.log1p(len({m.group(0).lower() for m in _NAME.finditer(text)}))
    numbers = np.log1p(len({m.group(0).lower().strip(".,") for m in _NUMBER.finditer(text)}))
    return np.array([names, numbers, names * number, numbers * number])


def answer_sentence(question: str, text: str, idf: Callable[[str], float] | None) -> float:
    """The shipped highlighter's best score among `text`'s prose sentences (all when none is)."""
    analysed = analyse_passage(text)
    if not analysed.spans:
        return 0.0
    scores = np.array(_learned_scores(question, analysed, idf, load_highlighter(), None))
    prose = [i for i, sentence in enumerate(analysed.sentences) if sentence.prose]
    return float(scores[prose].max() if prose else scores.max())


def collect(data_dir: Path, index_dir: Path, out: Path) -> None:
    qa = open_service(Settings(index_dir=index_dir))
    reader = qa.reader()
    queries = read_queries(data_dir / "queries.jsonl")
    keys = ("x", "cues", "answer_any", "answer", "gold", "article", "question", "dated")
    parts: dict[str, list[np.ndarray]] = {k: [] for k in keys}
    for found in question_candidates(qa, queries):
        q = queries[found.number]
        rows = reader.passages(found.ids.tolist())
        texts = [rows[i].text if i in rows else "" for i in found.ids.tolist()]
        wanted = [a.lower() for a in q.get("answers") or [] if a]
        number = asks_number(q["question"])
        parts["x"].append(found.x)
        idf = corpus_idf(reader, q["question"])
        found_cues = [np.r_[cues(t, number), answer_sentence(q["question"], t, idf)] for t in texts]
        parts["cues"].append(np.array(found_cues).reshape(len(texts), len(COLLECTED)))
        parts["answer_any"].append(np.array([any(a in t.lower() for a in wanted) for t in texts], bool))
        parts["answer"].append(found.labels)
        parts["gold"].append(found.gold)
        parts["article"].append(np.asarray(found.columns.articles))
        parts["question"].append(np.full(len(found.ids), found.number))
        parts["dated"].append(np.full(len(found.ids), found.dated))
    joined = {k: np.concatenate(v) for k, v in parts.items()}
    np.savez_compressed(out, **joined, features=np.array(FEATURES), cue_names=np.array(COLLECTED))
    print(f"{out}: {len(joined['x'])} candidates of {len(parts['x'])} question-settings")


def _load(path: Path, data_dir: Path, names: tuple[str, ...]) -> tuple[Candidates, np.ndarray]:
    """The candidates (ordered by question-setting, then article) and their cues `names` in that
    order."""
    with np.load(path) as d:
        data = {k: d[k] for k in d.files}
    saved = [str(n) for n in data["cue_names"]]
    missing = sorted(set(names) - set(saved))
    if missing:
        raise SystemExit(f"{path} holds no cue {', '.join(missing)} (it holds {', '.join(saved)})")
    c = Candidates(data, read_queries(data_dir / "queries.jsonl"))
    return c, data["cues"][c.order][:, [saved.index(n) for n in names]]


def fit_chooser(c: Candidates, x: np.ndarray, rows: np.ndarray, names: tuple[str, ...]) -> LinearRanker:
    """The chooser fitted on `rows`: one group per article of a question-setting, the candidates
    whose text holds an answer string its positives."""
    starts = _starts(c.group[rows], c.article[rows])
    groups = np.repeat(np.arange(len(starts)), np.diff(np.r_[starts, len(rows)]))
    return fit(Examples(x[rows], c.answer_any[rows], groups), features=names)


def displayed(
    c: Candidates, rows: np.ndarray, ranked: np.ndarray, shown: np.ndarray | None
) -> list[list[int]]:
    """Per question-setting of `rows`: the passage each of its first five articles (by `ranked`)
    displays, the best by `shown` (by `ranked` when None)."""
    out = []
    starts = _starts(c.group[rows])
    for begin, end in zip(starts, np.r_[starts[1:], len(rows)], strict=True):
        block = rows[begin:end]
        articles: list[int] = []
        for i in block[np.argsort(-ranked[block], kind="stable")].tolist():
            if c.article[i] not in articles:
                articles.append(int(c.article[i]))
            if len(articles) == 5:
                break
        by = ranked if shown is None else shown
        out.append([int(max(block[c.article[block] == a], key=lambda i: by[i])) for a in articles])
    return out


def study(path: Path, data_dir: Path, names: tuple[str, ...] = CUES) -> dict[str, Any]:
    c, cue = _load(path, data_dir, names)
    if c.answer_any is None:
        raise SystemExit(f"{path} was not written by benchmarks.passage_chooser collect")
    with_cues = np.hstack([c.x, cue])
    variants = ("ranker's best (shipped)", "chooser, shipped features", "chooser with the cues", "oracle")
    flags: dict[str, dict[str, list[float]]] = {v: {"gold": [], "any": []} for v in variants}
    dated: list[float] = []
    for fold in (0, 1):
        train, test = np.flatnonzero(c.fold != fold), np.flatnonzero(c.fold == fold)
        ranker = fit(Examples(c.x[train], c.answer[train], c.group[train]))
        ranked = ranker.score(c.x)
        plain = fit_chooser(c, c.x, train, FEATURES).score(c.x)
        cued = fit_chooser(c, with_cues, train, (*FEATURES, *names)).score(with_cues)
        picks = {
            variants[0]: displayed(c, test, ranked, None),
            variants[1]: displayed(c, test, ranked, plain),
            variants[2]: displayed(c, test, ranked, cued),
            variants[3]: displayed(c, test, ranked, c.answer_any + 1e-6 * ranked),
        }
        for name, shown in picks.items():
            flags[name]["gold"] += [float(c.answer[s].any()) for s in shown]
            flags[name]["any"] += [float(c.answer_any[s].any()) for s in shown]
        dated += [float(g % 2) for g in c.group[test][_starts(c.group[test])].tolist()]
    setting = np.array(dated)
    report: dict[str, Any] = {}
    for name in variants:
        report[name] = {}
        for label, metric in (("gold", "AnsRec@5"), ("any", "AnsRec@5 any")):
            v, base = np.array(flags[name][label]), np.array(flags[variants[0]][label])
            for d, where in enumerate(SETTINGS):
                low, high, _ = paired_bootstrap(v[setting == d], base[setting == d])
                diff = float((v[setting == d] - base[setting == d]).mean())
                report[name][f"{metric} {where}"] = {
                    "mean": round(float(v[setting == d].mean()), 4),
                    "diff": round(diff, 4),
                    "ci95": [round(low, 4), round(high, 4)],
                }
    for name, row in report.items():
        print(f"== {name}")
        for key, v in row.items():
            print(f"  {key} {v['mean']:.4f} {_diff(v)}")
    return report


def _changes(
    queries: list[dict[str, Any]], ours: list[dict[str, Any]], theirs: list[dict[str, Any]]
) -> dict[str, int]:
    """How many questions display other text in their first five hits, and of those, how many
    show an answer string only with the chooser (`won`) or only without it (`lost`)."""
    out = {"changed": 0, "won": 0, "lost": 0}
    for q, a, b in zip(queries, ours, theirs, strict=True):
        texts = [[h["text"] for h in r["hits"][:5]] for r in (a, b)]
        if texts[0] == texts[1]:
            continue
        out["changed"] += 1
        answers = [x.lower() for x in q.get("answers") or [] if x]
        holds = [any(x in t.lower() for t in shown for x in answers) for shown in texts]
        out["won"] += holds[0] and not holds[1]
        out["lost"] += holds[1] and not holds[0]
    return out


def _diff(v: dict[str, Any]) -> str:
    return f"{v['diff']:+.4f} [{v['ci95'][0]:+.3f}, {v['ci95'][1]:+.3f}]"


class Chooser:
    """A reranker: each of the k articles to be shown displays the chooser's best passage among
    its candidates, which takes that article's best score (so articles keep their order)."""

    def __init__(self, qa: Any, model: LinearRanker, k: int, names: tuple[str, ...]) -> None:
        self.qa, self.model, self.k = qa, model, k
        self.columns = [COLLECTED.index(n) for n in names]
        self.question, self.as_of = "", None
        self.config = RetrievalConfig()

    def __call__(self, c: RerankInput) -> np.ndarray:
        ids, x = self.qa.ranking_features(self.question, as_of=self.as_of)[0::2]
        row_of = {int(i): r for r, i in enumerate(ids.tolist())}
        scores = c.scores.copy()
        chosen = choose(c.columns.articles, c.columns.texts, self.k, self.config)
        articles = c.columns.articles
        shown = set(articles[chosen].tolist())
        members = [i for i in range(len(c.ids)) if articles[i] in shown]
        rows = c.reader.passages(c.ids[members].tolist())
        number = asks_number(self.question)
        idf = corpus_idf(c.reader, self.question)
        features = []
        for i in members:
            text = rows[int(c.ids[i])].text
            found = np.r_[cues(text, number), answer_sentence(self.question, text, idf)]
            features.append(np.r_[x[row_of[int(c.ids[i])]], found[self.columns]])
        best = dict(zip(members, self.model.score(np.array(features)).tolist(), strict=True))
        shown_texts = set(c.columns.texts[chosen].tolist())
        for p in chosen:
            own = [
                i
                for i in members
                if articles[i] == articles[p] and (i == p or c.columns.texts[i] not in shown_texts)
            ]
            pick = max(own, key=best.__getitem__)
            if pick != p:
                scores[pick], scores[p] = scores[p], scores[pick]
        return scores


def ask(
    data_dir: Path, index_dir: Path, train: Path, train_data: Path, names: tuple[str, ...] = CUES
) -> dict[str, Any]:
    c, cue = _load(train, train_data, names)
    model = fit_chooser(c, np.hstack([c.x, cue]), np.arange(len(c.x)), (*FEATURES, *names))
    qa = open_service(Settings(index_dir=index_dir))
    chooser = Chooser(qa, model, 10, names)
    queries = read_queries(data_dir / "queries.jsonl")
    report: dict[str, Any] = {"data": data_dir.name, "questions": len(queries), "chooser": model.about}
    for setting in SETTINGS:
        results: dict[str, list[dict[str, Any]]] = {"ranker's best": [], "chooser": []}
        for q in queries:
            as_of = dt.date.fromisoformat(q["date"][:10]) if setting == "dated" else None
            chooser.question, chooser.as_of = q["question"], as_of
            for name, reranker in (("ranker's best", keep_order), ("chooser", chooser)):
                qa.reranker = reranker
                answer = qa.ask(q["question"], 10, as_of=as_of)
                results[name].append({"id": q["id"], "hits": [h.to_dict() for h in answer.hits]})
        diff = compare(data_dir / "queries.jsonl", results["chooser"], results["ranker's best"])
        changes = _changes(queries, results["chooser"], results["ranker's best"])
        report[setting] = diff | {"questions": changes}
        print(setting, changes)
        print(setting, "  ".join(f"{m} {_diff(v)}" for m, v in diff.items()), flush=True)
    return report


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub, (s,) = subcommands(parser, "study")
    s.add_argument("--json", type=Path)
    s.add_argument("--cues", default=",".join(CUES), help=f"comma-joined, of {', '.join(COLLECTED)}")
    a = sub.add_parser("ask")
    a.add_argument("data_dir", type=Path)
    a.add_argument("--index-dir", type=Path, required=True)
    a.add_argument("--train", type=Path, required=True, help="a `collect` file of the train split")
    a.add_argument("--train-data", type=Path, required=True, help="the split --train was collected from")
    a.add_argument("--json", type=Path)
    a.add_argument("--cues", default=",".join(CUES), help=f"comma-joined, of {', '.join(COLLECTED)}")
    args = parser.parse_args(argv)
    if args.command == "collect":
        collect(args.data_dir, args.index_dir, args.out)
        return
    names = tuple(args.cues.split(","))
    unknown = sorted(set(names) - set(COLLECTED))
    if unknown:
        parser.error(f"unknown cues {', '.join(unknown)}; choices: {', '.join(COLLECTED)}")
    if args.command == "study":
        report = study(args.candidates, args.data_dir, names)
    else:
        report = ask(args.data_dir, args.index_dir, args.train, args.train_data, names)
    if args.json:
        args.json.write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
