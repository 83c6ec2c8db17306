"""Candidate features for learned ranking, from what retrieval already holds (no rows are read).

One row per candidate passage (the union of the dense and lexical lists, dense first), columns
named by `FEATURES`:

- `dense`: cosine with the question (absent from the dense list: that list's lowest cosine);
  `dense_absent`: 1 when absent; `dense_rank`: log(1 + rank), ranks from 0, absent = list length.
- `lexical`: BM25 score over the question's best BM25 score (absent: 0); `lexical_absent`,
  `lexical_rank`, `lexical_rr` as for dense.
- `in_window` / `out_window`: the article's day is inside / outside the question's time window
  (both 0 when the question names no time).
- `undated`: the article has no date.
- `week`, `month`, `year`: 2^(−age/7), 2^(−age/30), 2^(−age/365), age in days between the
  article and the as-of day (0 for undated articles); each again times `dated` (the caller gave
  an as-of day) and times `present` (the question asks about now: "this week", "latest", ...),
  so how much recency counts is learned per kind of question, not set by hand.
- `consensus_week`, `consensus_month`: 2^(−gap/7), 2^(−gap/30), gap in days between the article
  and the median day of the dated candidates among the first 10 of each list (the event's time
  as the best matches agree on it, which needs no as-of day; 0 for undated articles).
- `article_hits`: log(number of candidates from the same article).
- `copies`: log(number of passages in the index with the same words: syndicated copies).
- `lede`: the passage opens its article; `position`: log(1 + its place in the article).
- `article_dense`, `article_lexical`: the best `dense` / `lexical` among the candidates of the
  same article; `article_dense_rank`, `article_lexical_rank`: log(1 + the article's rank by
  them), so a passage is read with the evidence of its whole article.
- `dense_gap`: `dense` minus the best cosine of the question (how far behind the leader).
- `coverage`, `bigrams`: the share of the lexical query's idf mass the passage holds, and of its
  word pairs it holds in order (`embeddings.backends.overlap`; 0 without a lexical query);
  `article_coverage`: the best `coverage` among the candidates of the same article. BM25 alone
  cannot tell a passage holding every query word from one repeating a single rare one.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import numpy as np

from embeddings.backends import UNDATED, Candidates, Columns
from qa.retrieval.ranking import Window, inside

_CONSENSUS = 10  # best candidates of each list whose days agree on when the event was
_RECENCY = (("week", 7.0), ("month", 30.0), ("year", 365.0))
FEATURES: tuple[str, ...] = (
    "dense",
    "dense_absent",
    "dense_rank",
    "dense_rr",
    "lexical",
    "lexical_absent",
    "lexical_rank",
    "lexical_rr",
    "in_window",
    "out_window",
    "undated",
    *(name for name, _ in _RECENCY),
    *(f"{name}_dated" for name, _ in _RECENCY),
    *(f"{name}_present" for name, _ in _RECENCY),
    "consensus_week",
    "consensus_month",
    "article_hits",
    "copies",
    "lede",
    "position",
    "article_dense",
    "article_lexical",
    "article_dense_rank",
    "article_lexical_rank",
    "dense_gap",
    "coverage",
    "bigrams",
    "article_coverage",
)

# Words that tie a question to the moment it is asked, whatever the date parser made of them.
_PRESENT = re.compile(
    r"\b(?:this (?:week|weekend|month|year|past)|today|tonight|yesterday|recent(?:ly)?|latest|"
    r"current(?:ly)?|now|so far|last week|past week|newly|upcoming|soon)\b",
    re.IGNORECASE,
)


def asks_present(question: str) -> bool:
    """Whether the question is about what is happening now ("this week", "latest", "currently")."""
    return _PRESENT.search(question) is not None


@dataclass(frozen=True, slots=True)
class QueryFacts:
    """What ranking knows of the question beyond its words.

    `as_of`: the day ages are measured from; `dated`: the caller chose it (else it is the
    archive's own newest day or today); `present`: the question asks about now.
    """

    window: Window | None
    as_of: dt.date
    dated: bool
    present: bool


def candidate_ids(candidates: Candidates) -> np.ndarray:
    """The union of both lists, dense first then lexical-only, `(n,)` int64."""
    seen = dict.fromkeys(candidates.dense_ids.tolist())
    seen.update(dict.fromkeys(candidates.lexical_ids.tolist()))
    return np.fromiter(seen, dtype=np.int64, count=len(seen))


def features(
    candidates: Candidates,
    ids: np.ndarray,
    columns: Columns,
    copies: np.ndarray,
    facts: QueryFacts,
    overlap: np.ndarray | None = None,
) -> np.ndarray:
    """The `(len(ids), len(FEATURES))` float64 feature matrix of the candidates `ids`.

    `columns`, `copies` (passages sharing each one's text) and `overlap` (`IndexReader.overlap`
    with the lexical query; None: no lexical query) are aligned with `ids`.
    """
    n = len(ids)
    row = {pid: i for i, pid in enumerate(ids.tolist())}
    out = np.zeros((n, len(FEATURES)))
    col = {name: j for j, name in enumerate(FEATURES)}

    dense_rows = [row[p] for p in candidates.dense_ids.tolist()]
    nd = len(dense_rows)
    out[:, col["dense"]] = float(candidates.dense_scores[-1]) if nd else 0.0
    out[:, col["dense_absent"]] = 1.0
    out[:, col["dense_rank"]] = np.log1p(nd)
    if nd:
        out[dense_rows, col["dense"]] = candidates.dense_scores
        out[dense_rows, col["dense_absent"]] = 0.0
        out[dense_rows, col["dense_rank"]] = np.log1p(np.arange(nd))
        out[dense_rows, col["dense_rr"]] = 60.0 / (61.0 + np.arange(nd))

    lexical_rows = [row[p] for p in candidates.lexical_ids.tolist()]
    nl = len(lexical_rows)
    out[:, col["lexical_absent"]] = 1.0
    out[:, col["lexical_rank"]] = np.log1p(nl)
    if nl:
        top = float(candidates.lexical_scores[0]) or 1.0
        out[lexical_rows, col["lexical"]] = candidates.lexical_scores / top
        out[lexical_rows, col["lexical_absent"]] = 0.0
        out[lexical_rows, col["lexical_rank"]] = np.log1p(np.arange(nl))
        out[lexical_rows, col["lexical_rr"]] = 60.0 / (61.0 + np.arange(nl))

    days = columns.days
    dated_article = days != UNDATED
    if facts.window is not None:
        within = inside(days, facts.window)
        out[:, col["in_window"]] = within
        out[:, col["out_window"]] = ~within
    out[:, col["undated"]] = ~dated_article
    age = np.maximum(0, facts.as_of.toordinal() - days).astype(np.float64)
    for name, half_life in _RECENCY:
        recency = np.where(dated_article, np.power(0.5, age / half_life), 0.0)
        out[:, col[name]] = recency
        out[:, col[f"{name}_dated"]] = recency * facts.dated
        out[:, col[f"{name}_present"]] = recency * facts.present

    top = np.zeros(n, bool)
    top[dense_rows[:_CONSENSUS]] = True
    top[lexical_rows[:_CONSENSUS]] = True
    top &= dated_article
    if top.any():
        gap = np.abs(days - np.median(days[top])).astype(np.float64)
        out[:, col["consensus_week"]] = np.where(dated_article, np.power(0.5, gap / 7.0), 0.0)
        out[:, col["consensus_month"]] = np.where(dated_article, np.power(0.5, gap / 30.0), 0.0)

    _, inverse, counts = np.unique(columns.articles, return_inverse=True, return_counts=True)
    out[:, col["article_hits"]] = np.log(counts[inverse])
    out[:, col["copies"]] = np.log(np.maximum(copies, 1))
    positions = np.maximum(columns.positions, 0)
    out[:, col["lede"]] = positions == 0
    out[:, col["position"]] = np.log1p(positions)
    if overlap is not None:
        out[:, col["coverage"]] = overlap[:, 0]
        out[:, col["bigrams"]] = overlap[:, 1]
    for name in ("dense", "lexical", "coverage"):
        best = np.full(len(counts), -np.inf)
        np.maximum.at(best, inverse, out[:, col[name]])
        out[:, col[f"article_{name}"]] = best[inverse]
        if name == "coverage":
            break
        rank = np.empty(len(best))
        rank[np.argsort(-best, kind="stable")] = np.arange(len(best))
        out[:, col[f"article_{name}_rank"]] = np.log1p(rank[inverse])
    if n:
        out[:, col["dense_gap"]] = out[:, col["dense"]] - out[:, col["dense"]].max()
    return out
