"""Fitting the learned rankers: features of candidates, labelled by the questions' gold articles.

Passages (`train_ranker`): each question is asked twice, undated (as of today) and dated (as of
its own date), as `ask` would; every candidate from a gold article is a positive. Related articles
(`train_related_ranker`): each article that answers a question with other gold articles is a
group, its candidate articles (`related_pool`) the rows, those other gold articles the positives.
The model is linear over standardised features with a listwise softmax loss (the positives should
take the probability mass of the group's candidates), L2-regularised, minimised by L-BFGS:
deterministic, no sampling.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol, TypeVar

import numpy as np
from scipy.optimize import minimize

from embeddings.backends import Columns, IndexReader
from embeddings.errors import QAError
from qa.evaluation import related_truth
from qa.retrieval.features import FEATURES
from qa.retrieval.learned import LinearRanker
from qa.retrieval.related_features import RELATED_FEATURES, related_pool
from qa.service import QAService

_log = logging.getLogger(__name__)


class TrainingError(QAError, ValueError):
    """The examples cannot be fitted on (a one-line error for the `qa train-*` commands)."""


@dataclass(frozen=True, slots=True)
class Examples:
    """Candidates of many questions: `x` `(n, F)`, `labels` `(n,)` bool, `groups` `(n,)` int
    (equal for candidates of one question in one setting, contiguous)."""

    x: np.ndarray
    labels: np.ndarray
    groups: np.ndarray
    encoder: str | None = None  # the identity of the encoder whose vectors they were drawn with
    drawn_from: str | None = None  # the command, questions and settings they were collected by

    def save(self, path: Path) -> None:
        np.savez_compressed(path, x=self.x, labels=self.labels, groups=self.groups, **cache_notes(self))

    @classmethod
    def load(cls, path: Path) -> Examples:
        with np.load(path) as data:
            return cls(data["x"], data["labels"], data["groups"], *read_cache_notes(data))


def cache_notes(examples: Any) -> dict[str, np.ndarray]:
    """The text fields an examples cache keeps beside its arrays (those that are set)."""
    notes = {"encoder": examples.encoder, "drawn_from": examples.drawn_from}
    return {name: np.array(value) for name, value in notes.items() if value is not None}


def read_cache_notes(data: Any) -> tuple[str | None, str | None]:
    """`encoder` and `drawn_from` of a loaded `.npz` (None where an earlier release kept neither)."""
    encoder, source = (str(data[name]) if name in data.files else None for name in ("encoder", "drawn_from"))
    return encoder, source


def read_queries(path: Path, required: tuple[str, ...] = ("question", "gold_ids")) -> list[dict[str, Any]]:
    """`{"question", "gold_ids", "answers"?, "date"?}` records, one JSON object a line.

    Raises:
        TrainingError: a line that is not such a record (`path:line: why`), a `date` that is not
            YYYY-MM-DD, or a file that cannot be read.
    """
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise TrainingError(f"cannot read {path}: {exc}") from None
    records = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise TrainingError(f"{where}: not JSON ({exc.msg})") from None
        if not isinstance(record, dict) or any(key not in record for key in required):
            raise TrainingError(f"{where}: a question record needs {', '.join(map(repr, required))}")
        if "question" in record and not isinstance(record["question"], str):
            raise TrainingError(f"{where}: question is not a string")
        for key in ("gold_ids", "answers"):  # a string here would be read one letter at a time
            value = record.get(key)
            if value is not None and not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
                raise TrainingError(f"{where}: {key} is not a list of strings (got {type(value).__name__})")
        if record.get("date"):
            try:
                dt.date.fromisoformat(str(record["date"])[:10])
            except ValueError:
                raise TrainingError(f"{where}: date {record['date']!r} is not YYYY-MM-DD") from None
        records.append(record)
    if not records:
        raise TrainingError(f"no questions in {path}")
    return records


@dataclass(frozen=True, slots=True)
class QuestionCandidates:
    """The candidates of question number `number` of a set in one setting (`dated`: as of its
    date), as `ask` reads them: ids, columns, features, and which come from a gold article
    (`gold`) and which are positives (`labels`: those that hold an answer, see `collect`)."""

    number: int
    dated: bool
    ids: np.ndarray
    columns: Columns
    x: np.ndarray
    gold: np.ndarray
    labels: np.ndarray


def question_candidates(
    qa: QAService, queries: Sequence[dict[str, Any]], settings: Sequence[str] = ("undated", "dated")
) -> Iterator[QuestionCandidates]:
    """Every question's labelled candidates in every setting (`dated` needs a `date`), in order;
    a question-setting without candidates is left out."""
    reader = qa.reader()
    qa.prepare([q["question"] for q in queries])
    for number, q in enumerate(queries):
        gold_ids = np.concatenate([reader.article_passages(str(g)) for g in q["gold_ids"]] or [np.zeros(0)])
        for setting in settings:
            if setting == "dated" and not q.get("date"):
                continue
            as_of = dt.date.fromisoformat(str(q["date"])[:10]) if setting == "dated" else None
            ids, columns, x = qa.ranking_features(q["question"], as_of=as_of)
            if not len(ids):
                continue
            gold = np.isin(ids, gold_ids)
            labels = _answering(reader, ids, gold, q.get("answers") or [])
            yield QuestionCandidates(number, setting == "dated", ids, columns, x, gold, labels)


def collect(
    qa: QAService, queries: Sequence[dict[str, Any]], *, settings: Sequence[str] = ("undated", "dated")
) -> Examples:
    """The labelled candidates of every question in every setting (`dated` needs a `date`).

    A positive is a candidate from a gold article that holds an answer (any passage of a gold
    article when none of its candidates does): a long article's other passages are not what the
    question asks for.
    """
    xs, labels, groups = [], [], []
    for found in question_candidates(qa, queries, settings):
        xs.append(found.x)
        labels.append(found.labels)
        groups.append(np.full(len(found.ids), len(groups)))
    if not xs:
        return Examples(np.zeros((0, len(FEATURES))), np.zeros(0, bool), np.zeros(0, np.int64))
    return Examples(np.concatenate(xs), np.concatenate(labels), np.concatenate(groups), qa.encoder.identity)


def collect_related(
    reader: IndexReader, queries: Sequence[dict[str, Any]], *, candidates: int = 200
) -> Examples:
    """The labelled candidate articles of every indexed article of `related_truth(queries)`, in
    sorted order (`candidates`: passages of each list, as `RetrievalConfig.related_candidates`)."""
    xs, labels, groups = [], [], []
    for article_id, others in sorted(related_truth(queries).items()):
        own = reader.article_passages(article_id)
        article = reader.article(article_id)
        if not len(own) or article is None:
            continue
        pool = related_pool(reader, article, own, candidates)
        xs.append(pool.x)
        labels.append(np.array([row.article_id in others for row in pool.rows], bool))
        groups.append(np.full(len(pool.rows), len(groups)))
    if not xs:
        return Examples(np.zeros((0, len(RELATED_FEATURES))), np.zeros(0, bool), np.zeros(0, np.int64))
    return Examples(np.concatenate(xs), np.concatenate(labels), np.concatenate(groups), reader.info.encoder)


def _answering(reader: Any, ids: np.ndarray, gold: np.ndarray, answers: Sequence[str]) -> np.ndarray:
    """Of the gold candidates, those whose text holds an answer (all of them when none does)."""
    wanted = [a.lower() for a in answers if a]
    if not wanted or not gold.any():
        return gold
    rows = reader.passages(ids[gold].tolist())
    holds = np.array(
        [any(a in rows[p].text.lower() for a in wanted) if p in rows else False for p in ids[gold].tolist()]
    )
    if not holds.any():
        return gold
    out = np.zeros(len(ids), bool)
    out[np.flatnonzero(gold)[holds]] = True
    return out


def fit(
    examples: Examples,
    *,
    l2: float = 0.01,
    about: dict[str, Any] | None = None,
    features: tuple[str, ...] = FEATURES,
) -> LinearRanker:
    """A linear ranker (over the columns `features` names) minimising the listwise softmax loss
    over groups holding a positive.

    loss = mean over groups of [logsumexp(all scores) − logsumexp(positive scores)] + l2/2·|w|².
    `features` names the columns of `examples.x` (the learned highlighter fits sentences with it).

    Raises:
        TrainingError: no group holds both a positive and a negative, or `x` does not have one column
            per feature.
    """
    if examples.x.shape[1:] != (len(features),):
        raise TrainingError(f"examples have {examples.x.shape[1:]} columns for {len(features)} features")
    useful = _useful_groups(examples)
    x, labels, groups = examples.x[useful], examples.labels[useful], examples.groups[useful]
    if not len(x):
        raise TrainingError(
            "no question has a gold candidate and another candidate to rank below it"
            " (do the questions' gold_ids name indexed articles?)"
        )
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    z = (x - mean) / scale
    starts = np.flatnonzero(np.r_[True, groups[1:] != groups[:-1]])
    n_groups = len(starts)

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        s = z @ w
        p, lse_all = _group_softmax(s, starts)
        q, lse_pos = _group_softmax(np.where(labels, s, -np.inf), starts)
        value = float((lse_all - lse_pos).sum()) / n_groups + 0.5 * l2 * float(w @ w)
        grad = z.T @ (p - q) / n_groups + l2 * w
        return value, grad

    result = minimize(loss, np.zeros(z.shape[1]), jac=True, method="L-BFGS-B", options={"maxiter": 500})
    info = {
        "objective": "listwise softmax",
        "l2": l2,
        "groups": int(n_groups),
        "candidates": len(x),
        "positives": int(labels.sum()),
        "loss": round(float(result.fun), 6),
        "converged": bool(result.success),
    }
    # the range of each feature the model was fitted on: serving clips to it (`LinearRanker`)
    low, high = x.min(axis=0), x.max(axis=0)
    return LinearRanker(features, mean, scale, result.x, about=(about or {}) | info, low=low, high=high)


def _useful_groups(examples: Examples) -> np.ndarray:
    """Rows of the groups holding at least one positive and one negative."""
    groups, labels = examples.groups, examples.labels
    if not len(groups):
        return np.zeros(0, bool)
    size = np.bincount(groups)
    positives = np.bincount(groups, weights=labels.astype(np.float64))
    keep = (positives > 0) & (positives < size)
    return keep[groups]


def _group_softmax(s: np.ndarray, starts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per contiguous group (rows from each start): softmax of `s` and the group's logsumexp."""
    top = np.maximum.reduceat(s, starts)
    counts = np.diff(np.r_[starts, len(s)])
    shifted = np.exp(s - np.repeat(top, counts))
    total = np.add.reduceat(shifted, starts)
    return shifted / np.repeat(total, counts), top + np.log(total)


def train_ranker(
    qa: QAService, queries_path: Path, out: Path, *, l2: float = 0.01, cache: Path | None = None
) -> LinearRanker:
    """Fit a ranker on the questions of `queries_path` over `qa`'s index and write it to `out`.

    With `cache`, the collected examples are kept there (and read back when present).
    """
    source = drawn_from("train-ranker", queries_path, qa)
    queries = read_queries(queries_path)
    examples = cached(cache, Examples.load, lambda: collect(qa, queries), source)
    about = {
        "data": Path(queries_path).parent.name,
        "questions": len(queries),
        **drawn_with(examples.encoder),
    }
    ranker = fit(examples, l2=l2, about=about)
    ranker.save(out)
    return ranker


class _Saved(Protocol):
    @property
    def drawn_from(self) -> str | None: ...

    def save(self, path: Path) -> None: ...


SavedT = TypeVar("SavedT", bound=_Saved)


def drawn_from(command: str, queries_path: Path, qa: QAService, **settings: object) -> str:
    """What a `qa train-*` run collects its examples from, part by part (`"; "`-separated): the
    command, the questions file (its sha256), the index (its version, when that was written, its
    counts), the retrieval settings (their sha256: they decide the candidates and the hits) and
    the command's own `settings`. `cached` compares them.

    Raises:
        TrainingError: the questions file cannot be read.
    """
    try:
        questions = hashlib.sha256(Path(queries_path).read_bytes()).hexdigest()[:16]
    except OSError as exc:
        raise TrainingError(f"{queries_path}: {exc.strerror or exc}") from exc
    info = qa.reader().info
    retrieval = hashlib.sha256(qa.retrieval.model_dump_json().encode()).hexdigest()[:16]
    parts = [
        f"qa {command}",
        f"questions sha256:{questions}",
        f"index version {info.version} written {info.created}"
        f" ({info.articles} articles, {info.passages} passages)",
        f"retrieval settings sha256:{retrieval}",
        *(f"{name}={value}" for name, value in settings.items()),
    ]
    return "; ".join(parts)


def cached(
    cache: Path | None, load: Callable[[Path], SavedT], collect: Callable[[], SavedT], source: str
) -> SavedT:
    """The examples of a `qa train-*` run (`source`: what they are drawn from, `drawn_from`): read
    back from `cache` when it holds them, else collected (and kept there when a cache is named).
    numpy adds `.npz` to a name without it, so a cache named `hits` is looked for as `hits.npz`.

    Raises:
        TrainingError: the cache holds the examples of other questions, settings or another
            command (fitting on them would give a file that says it was fitted on these).
    """
    path = None if cache is None else Path(cache)
    if path is not None and path.suffix != ".npz":
        path = path.with_name(path.name + ".npz")
    if path is not None and path.is_file():
        examples = load(path)
        if examples.drawn_from is None:
            _log.warning("%s: examples cached by an earlier release; taken for %s", path, source)
        elif examples.drawn_from != source:
            then, now = examples.drawn_from.split("; "), source.split("; ")
            differ = [f"{a!r} there, {b!r} now" for a, b in zip(then, now, strict=False) if a != b]
            if len(then) != len(now):
                differ.append(f"{len(then)} parts there, {len(now)} now")
            raise TrainingError(
                f"{path} holds examples collected otherwise ({'; '.join(differ)}):"
                " delete it, or name another --examples file"
            )
        return examples
    examples = replace(collect(), drawn_from=source)  # type: ignore[type-var]
    if path is not None:
        examples.save(path)
    return examples


def drawn_with(encoder: str | None) -> dict[str, str]:
    """`about`'s record of the model whose vectors the examples' dense features come from
    (`learned.fits_encoder`); nothing for examples cached before it was kept with them."""
    return {"encoder": encoder} if encoder else {}


def train_related_ranker(
    qa: QAService,
    queries_path: Path,
    out: Path,
    *,
    l2: float = 0.01,
    cache: Path | None = None,
) -> LinearRanker:
    """Fit a related-articles ranker on the gold articles of `queries_path`'s questions over `qa`'s
    index and write it to `out` (`cache` as in `train_ranker`)."""
    candidates = qa.retrieval.related_candidates
    examples = cached(
        cache,
        Examples.load,
        lambda: collect_related(qa.reader(), read_queries(queries_path), candidates=candidates),
        drawn_from("train-ranker --related", queries_path, qa, related_candidates=candidates),
    )
    about = {
        "data": Path(queries_path).parent.name,
        "articles": len(np.unique(examples.groups)),
        "related_candidates": qa.retrieval.related_candidates,
        **drawn_with(examples.encoder),
    }
    ranker = fit(examples, l2=l2, about=about, features=RELATED_FEATURES)
    ranker.save(out)
    return ranker
