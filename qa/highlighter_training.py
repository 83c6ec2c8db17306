"""Fitting the learned highlighter: features of the sentences of each question's hits, labelled by
whether they hold an answer.

Each question is asked twice, undated (as of today) and dated (as of its own date), as `ask`
would, for its top `k` hits; each hit is one group, its sentences (as the highlight splits them)
the candidates, those holding an answer string (lowercased, as HiAnsRec counts it) the positives.
Only hits holding an answer in some sentence but not in all of them teach anything. The model is
fitted as the ranker is (`ranker_training.fit`: listwise softmax, L2, L-BFGS, deterministic).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from qa.ranker_training import Examples, cached, drawn_from, fit, read_queries
from qa.retrieval.learned import LinearRanker
from qa.retrieval.sentence_features import (
    FEATURES,
    analyse_passage,
    analyse_question,
    sentence_features,
    term_weights,
)
from qa.retrieval.shaping import corpus_idf
from qa.service import QAService

__all__ = ["collect_sentences", "train_highlighter"]


def collect_sentences(
    qa: QAService,
    queries: Sequence[dict[str, Any]],
    *,
    k: int = 10,
    settings: Sequence[str] = ("undated", "dated"),
) -> Examples:
    """The labelled sentences of the top `k` hits of every question with `answers`, in every
    setting (`dated` needs a `date`); one group per hit, `x` of shape `(n, len(FEATURES))`."""
    reader = qa.reader()
    config = qa.retrieval
    qa.prepare([q["question"] for q in queries])
    qa.retrieval = config.model_copy(update={"highlight": False})  # the hits, not a highlighter's pick
    xs, labels, groups = [], [], []
    try:
        for q in queries:
            wanted = [a.lower() for a in q.get("answers") or [] if a]
            if not wanted:
                continue
            facts = analyse_question(q["question"])
            idf = corpus_idf(reader, q["question"]) if config.highlight_corpus_idf else None
            for setting in settings:
                if setting == "dated" and not q.get("date"):
                    continue
                as_of = dt.date.fromisoformat(str(q["date"])[:10]) if setting == "dated" else None
                for hit in qa.ask(q["question"], k, as_of=as_of).hits:
                    passage = analyse_passage(hit.text)
                    if not passage.spans:
                        continue
                    xs.append(sentence_features(facts, passage, term_weights(facts, passage, idf)))
                    labels.append([any(a in hit.text[s:e].lower() for a in wanted) for s, e in passage.spans])
                    groups.append(np.full(len(passage.spans), len(groups)))
    finally:
        qa.retrieval = config
    if not xs:
        return Examples(np.zeros((0, len(FEATURES))), np.zeros(0, bool), np.zeros(0, np.int64))
    return Examples(np.concatenate(xs), np.concatenate(labels).astype(bool), np.concatenate(groups))


def train_highlighter(
    qa: QAService, queries_path: Path, out: Path, *, l2: float = 0.01, k: int = 10, cache: Path | None = None
) -> LinearRanker:
    """Fit a highlighter on the questions of `queries_path` over `qa`'s index and write it to `out`.

    With `cache`, the collected sentences are kept there (and read back when present).
    """
    queries = read_queries(queries_path, required=("question",))
    examples = cached(
        cache,
        Examples.load,
        lambda: collect_sentences(qa, queries, k=k),
        drawn_from("train-highlighter", queries_path, qa, k=k),
    )
    about = {"data": Path(queries_path).parent.name, "questions": len(queries), "hits_per_question": k}
    model = fit(examples, l2=l2, about=about, features=FEATURES)
    model.save(out)
    return model
