"""Probe candidate evidence for the learned ranker on train folds before building it in (issue 15).

usage: python -m benchmarks.ranker_probes collect DATA_DIR --index-dir DIR --out FILE.npz
       python -m benchmarks.ranker_probes ablate FILE.npz DATA_DIR --sets A B,C ... [--json OUT]
       python -m benchmarks.ranker_probes positives FILE.npz DATA_DIR [--json OUT]

`collect` saves what `benchmarks.ranker_objectives collect` saves (the shipped features of every
question's candidates, undated and dated) plus probe features that serving does not compute, some
of them from the candidates' text or vectors (`PROBES`):

- `title_coverage`: the share of the lexical query's idf mass whose tokens the article's title holds;
- `entity_coverage`, `has_entity`: the same share for the question's capitalised words after its
  first (names), and whether it has any;
- `length`: log(1 + the passage's BM25 tokens);
- `rarest`, `title_rarest`: the passage (its title) holds the query's highest-idf token;
- `prf_dense`, `prf_lexical`, `prf_both`: cosine of the passage's stored vector with the centroid
  of the first 10 of the dense list, of the lexical list, of both centroids summed (pseudo-relevance
  feedback in the embedding space); `prf_dense5`, `prf_lexical5`: of the first 5.

`ablate` fits, for each `--sets` entry (comma-joined probe names, or `dated_interactions`: every
shipped feature times the dated flag, i.e. separate weights per setting), the shipped loss on the
shipped features plus the set against the shipped features alone, on the two folds of
`benchmarks.ranker_objectives` (by question text), and prints the paired differences.
`benchmarks.sentence_probes` writes files `ablate` reads, with other probes.

`positives` compares what the ranker is told to find: the shipped positives (answer-holding
passages of gold articles) against any candidate whose text holds an answer string, which is what
`score.py`'s AnsRec counts (`AnsRec@5 any`).
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import paired_bootstrap
from benchmarks.ranker_objectives import (
    ANY_ANSWER,
    METRICS,
    SETTINGS,
    Candidates,
    _starts,
    ablate,
    subcommands,
    two_folds,
)
from embeddings.text import bm25_query_tokens, bm25_tokens, snowball_stemmer
from qa.ranker_training import QuestionCandidates, question_candidates, read_queries
from qa.retrieval.features import FEATURES
from qa.service import open_service
from qa.settings import Settings

LEXICAL_PROBES = ("title_coverage", "entity_coverage", "has_entity", "length", "rarest", "title_rarest")
DENSE_PROBES = ("prf_dense", "prf_lexical", "prf_both", "prf_dense5", "prf_lexical5")
PROBES = (*LEXICAL_PROBES, *DENSE_PROBES)
_NAME = re.compile(r"\b[A-Z][\w'’.-]*")


def _unit(v: np.ndarray) -> np.ndarray:
    norm = np.linalg.norm(v, axis=-1, keepdims=True)
    return v / np.maximum(norm, 1e-12)


def _centroid(vectors: np.ndarray, rank: np.ndarray, absent: np.ndarray, k: int) -> np.ndarray:
    """The unit mean of the vectors of the first `k` of a list (`rank` log1p ranks, `absent` flags)."""
    order = np.where(absent == 0, rank, np.inf)
    top = np.argsort(order, kind="stable")[:k]
    top = top[np.isfinite(order[top])]
    return _unit(vectors[top].mean(axis=0)) if len(top) else np.zeros(vectors.shape[1])


def probes(reader: Any, q: dict[str, Any], found: QuestionCandidates) -> tuple[np.ndarray, np.ndarray]:
    """The `(len(found.ids), len(PROBES))` probe features of one question-setting's candidates,
    and which candidates' text holds an answer string, whatever their article (as `score.py`'s
    AnsRec counts it)."""
    question = q["question"]
    stemmer = snowball_stemmer()
    words = list(dict.fromkeys(bm25_query_tokens(question, None)))
    idf = reader.idf(words) or {}
    weight: dict[str, float] = {}
    for word in words:
        token = stemmer.stemWord(word)
        weight[token] = max(weight.get(token, 0.0), idf.get(word, 0.0))
    mass = sum(weight.values()) or 1.0
    names = " ".join(m.group(0) for m in _NAME.finditer(question) if m.start() > 0)
    entities = set(bm25_query_tokens(names, stemmer)) & set(weight) if names else set()
    entity_mass = sum(weight[t] for t in entities)
    rarest = max(weight, key=weight.__getitem__) if weight else None

    ids = found.ids.tolist()
    rows = reader.passages(ids)
    titles = bm25_tokens([rows[i].title if i in rows else "" for i in ids], True)
    texts = bm25_tokens([rows[i].text if i in rows else "" for i in ids], True)
    wanted = [a.lower() for a in q.get("answers") or [] if a]
    holds = np.array([i in rows and any(a in rows[i].text.lower() for a in wanted) for i in ids], bool)
    out = np.zeros((len(ids), len(PROBES)))
    for r, (title_tokens, text_tokens) in enumerate(zip(titles, texts, strict=True)):
        title, held = set(title_tokens), set(title_tokens) | set(text_tokens)
        out[r, 0] = sum(w for t, w in weight.items() if t in title) / mass
        out[r, 1] = sum(weight[t] for t in entities if t in held) / entity_mass if entity_mass else 0.0
        out[r, 2] = float(entity_mass > 0)
        out[r, 3] = np.log1p(len(text_tokens))
        out[r, 4] = float(rarest in held) if rarest else 0.0
        out[r, 5] = float(rarest in title) if rarest else 0.0

    x = found.x
    vectors = _unit(reader.vectors(found.ids).astype(np.float64))
    dense = (x[:, FEATURES.index("dense_rank")], x[:, FEATURES.index("dense_absent")])
    lexical = (x[:, FEATURES.index("lexical_rank")], x[:, FEATURES.index("lexical_absent")])
    c_dense, c_lexical = _centroid(vectors, *dense, 10), _centroid(vectors, *lexical, 10)
    d = len(LEXICAL_PROBES)
    out[:, d] = vectors @ c_dense
    out[:, d + 1] = vectors @ c_lexical
    out[:, d + 2] = vectors @ _unit(c_dense + c_lexical)
    out[:, d + 3] = vectors @ _centroid(vectors, *dense, 5)
    out[:, d + 4] = vectors @ _centroid(vectors, *lexical, 5)
    return out, holds


def collect(data_dir: Path, index_dir: Path, out: Path) -> None:
    qa = open_service(Settings(index_dir=index_dir))
    reader = qa.reader()
    queries = read_queries(data_dir / "queries.jsonl")
    keys = ("x", "probes", "answer_any", "answer", "gold", "article", "question", "dated", "ids")
    parts: dict[str, list[np.ndarray]] = {k: [] for k in keys}
    for found in question_candidates(qa, queries):
        parts["x"].append(found.x)
        extra, holds = probes(reader, queries[found.number], found)
        parts["probes"].append(extra)
        parts["answer_any"].append(holds)
        parts["answer"].append(found.labels)
        parts["gold"].append(found.gold)
        parts["article"].append(np.asarray(found.columns.articles))
        parts["question"].append(np.full(len(found.ids), found.number))
        parts["dated"].append(np.full(len(found.ids), found.dated))
        parts["ids"].append(found.ids)
    joined = {k: np.concatenate(v) for k, v in parts.items()}
    np.savez_compressed(out, **joined, features=np.array(FEATURES), probe_names=np.array(PROBES))
    print(f"{out}: {len(joined['x'])} candidates of {len(parts['x'])} question-settings")


def _with(data: dict[str, np.ndarray], names: list[str]) -> tuple[np.ndarray, list[str]]:
    """The probe columns `names` (or the dated interactions) to append to the shipped features."""
    features = [str(f) for f in data["features"]]
    if names == ["dated_interactions"]:
        keep = [j for j, f in enumerate(features) if not f.endswith("_dated")]
        extra = data["x"][:, keep] * data["dated"].astype(np.float64)[:, None]
        return extra, [f"{features[j]}*dated" for j in keep]
    known = [str(p) for p in data["probe_names"]]
    unknown = sorted(set(names) - set(known))
    if unknown:
        choices = ", ".join([*known, "dated_interactions"])
        raise SystemExit(f"unknown probes {', '.join(unknown)}; choices: {choices}")
    return data["probes"][:, [known.index(n) for n in names]], names


def ablate_sets(path: Path, data_dir: Path, sets: list[list[str]]) -> dict[str, Any]:
    with np.load(path) as d:
        data = {k: d[k] for k in d.files}
    queries = read_queries(data_dir / "queries.jsonl")
    report: dict[str, Any] = {}
    for names in sets:
        extra, columns = _with(data, names)
        joined = {k: data[k] for k in ("answer", "gold", "article", "question", "dated")}
        joined["x"] = np.hstack([data["x"], extra])
        joined["features"] = np.array([*map(str, data["features"]), *columns])
        result = ablate(Candidates(joined, queries), columns)
        key = ",".join(names)
        report[key] = result["settings"]
        print(f"== {key}")
        for setting, metrics in result["settings"].items():
            cells = (
                f"{m} {v['every feature']:.4f} {v['diff']:+.4f} [{v['ci95'][0]:+.3f}, {v['ci95'][1]:+.3f}]"
                for m, v in metrics.items()
            )
            print(f"  {setting:8s}", "  ".join(cells), flush=True)
    return report


def positives(path: Path, data_dir: Path) -> dict[str, Any]:
    """The shipped positives (answer-holding passages of gold articles) against positives that
    also count any candidate whose text holds an answer string, the way `score.py`'s AnsRec counts
    it: two folds, the shipped features and loss, `ANY_ANSWER` reported beside the metrics."""
    c = Candidates(path, read_queries(data_dir / "queries.jsonl"))
    holds = c.answer_any
    if holds is None:
        raise SystemExit(f"{path} has no answer_any: collect it with benchmarks.ranker_probes")
    starts = _starts(c.group)
    any_in_group = np.repeat(np.maximum.reduceat(holds, starts), np.diff(np.r_[starts, len(holds)]))
    variants = {
        "shipped": c.answer,
        "gold answer-holding or any answer-holding": c.answer | holds,
        "any answer-holding (gold where none)": np.where(any_in_group, holds, c.answer),
    }
    per = {name: two_folds(c, positive) for name, positive in variants.items()}
    report: dict[str, Any] = {}
    base = per["shipped"]
    for name, block in per.items():
        print(f"== {name}")
        report[name] = {}
        for setting in SETTINGS:
            cells = []
            row: dict[str, Any] = {}
            for m in (*METRICS, ANY_ANSWER):
                v = block[setting][m]
                low, high, _ = paired_bootstrap(v, base[setting][m])
                diff = float((v - base[setting][m]).mean())
                row[m] = {
                    "mean": round(float(v.mean()), 4),
                    "diff": round(diff, 4),
                    "ci95": [round(low, 4), round(high, 4)],
                }
                cells.append(f"{m} {v.mean():.4f} {diff:+.4f} [{low:+.3f}, {high:+.3f}]")
            report[name][setting] = row
            print(f"  {setting:8s}", "  ".join(cells), flush=True)
    return report


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    _, (a, p) = subcommands(parser, "ablate", "positives")
    a.add_argument("--sets", nargs="+", required=True, help="comma-joined probe names, or dated_interactions")
    a.add_argument("--json", type=Path)
    p.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    if args.command == "collect":
        collect(args.data_dir, args.index_dir, args.out)
        return
    if args.command == "positives":
        report = positives(args.candidates, args.data_dir)
    else:
        report = ablate_sets(args.candidates, args.data_dir, [s.split(",") for s in args.sets])
    if args.json:
        args.json.write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
