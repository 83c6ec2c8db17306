"""Pick the sentence of a passage that best answers a question (the highlight shown to users)."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from embeddings.errors import QAError
from embeddings.text import STOPWORDS, light_stem
from qa.retrieval.sentence_features import (
    Passage,
    analyse_passage,
    analyse_question,
    lexical_scores,
    sentence_features,
    term_weights,
)

if TYPE_CHECKING:
    from qa.retrieval.learned import LinearRanker

__all__ = ["Highlight", "best_sentence"]

# Score weights (see best_sentence). The lexical score is a fraction of the question's idf mass,
# about [0, 1.5]; dense scores are cosine similarities, in practice [0, 1] for MiniLM. Lexical
# weighs more because the highlight must show the words the user asked about; the dense part
# rescues paraphrases that share no words with the question.
ANSWER_TYPE_BONUS = 0.05
LEXICAL_WEIGHT = 0.6
DENSE_WEIGHT = 0.4


@dataclass(frozen=True, slots=True)
class Highlight:
    """A span of a passage: `passage[start:end] == text`."""

    text: str
    start: int
    end: int


_CAPITALISED = re.compile(r"(?<=\s)[A-Z]\w+")
_NUMBER = re.compile(r"\d")


def best_sentence(
    question: str,
    passage: str,
    *,
    idf: Callable[[str], float] | None = None,
    sentence_scores: Sequence[float] | None = None,
    spans: Sequence[tuple[int, int]] | None = None,
    scorer: LinearRanker | None = None,
) -> Highlight:
    """Pick the sentence of `passage` that best answers `question`.

    Lexical score of a sentence (`sentence_features.lexical_scores`): the idf mass of question
    terms it contains, plus `BIGRAM_WEIGHT` x the smaller idf of each question bigram it contains
    in order, divided by the question's idf mass, then divided by `(max(n, 8) / 8) ** 0.25` for a
    sentence of `n` content words (mild: long sentences do not win by size alone). Terms are those
    of `embeddings.text.terms`: lowercased, lightly stemmed content words. Answer-type cue: among
    matching sentences within `ANSWER_TYPE_BONUS` of the best lexical score, those holding the
    kind of thing the question asks for get `ANSWER_TYPE_BONUS`: a number for how many/how
    much/when/what year, a number or a capitalised word (not the sentence's first) that is not a
    question term for who/whom/whose/which/what/where.

    With `sentence_scores` the final score is `LEXICAL_WEIGHT * lexical + DENSE_WEIGHT * dense`.
    Prose comes first: when a sentence that reads as prose (`debris.is_prose`) scores above zero,
    the best of those wins, so a matching headline, caption, link text or boilerplate line is
    passed over; otherwise the best of all. Ties go to the earlier sentence, so a passage with no
    match yields its first prose sentence (its first sentence when it has none).

    With a `scorer` (the learned highlighter, `highlighter.load_highlighter`), a sentence's score is
    instead the scorer's over its `sentence_features.FEATURES` (plus `DENSE_WEIGHT * dense` with
    `sentence_scores`), and the best prose sentence wins whenever the passage has one: the scorer
    weighs sentences that share no word with the question too.

    Args:
        question: The user's question.
        passage: The passage text.
        idf: Weight of a term, called with the lowercased stemmed term; defaults to an idf over
            the passage's own sentences, `log(1 + (n + 1) / (df + 0.5))`.
        sentence_scores: One score per sentence, aligned with `split_sentences(passage)`, shape
            `(len(split_sentences(passage)),)`, e.g. dense cosine similarities.
        spans: `split_sentences(passage)` when already known (the index stores it per passage).
        scorer: A linear model over `sentence_features.FEATURES`; None for the lexical score.

    Returns:
        The chosen sentence; the whole stripped passage when it has no sentence boundary, and an
        empty highlight at 0 when the passage is empty or whitespace.

    Raises:
        QAError: `sentence_scores` does not have one score per sentence.
    """
    analysed = analyse_passage(passage, None if spans is None else tuple(spans))
    found = analysed.spans
    if sentence_scores is not None and len(sentence_scores) != len(found):
        raise QAError(f"sentence_scores has {len(sentence_scores)} scores for {len(found)} sentences")
    if not found:
        return Highlight("", 0, 0)
    if len(found) == 1:
        start, end = found[0]
        return Highlight(passage[start:end], start, end)

    prose = [s.prose for s in analysed.sentences]
    if scorer is not None:
        pool = [i for i in range(len(found)) if prose[i]] or list(range(len(found)))
        scores = _learned_scores(question, analysed, idf, scorer, sentence_scores)
    else:
        scores = _lexical_scores(question, passage, analysed, idf)
        if sentence_scores is not None:
            scores = [
                LEXICAL_WEIGHT * lex + DENSE_WEIGHT * float(d)
                for lex, d in zip(scores, sentence_scores, strict=True)
            ]
        matching_prose = [i for i in range(len(found)) if prose[i] and scores[i] > 0.0]
        if matching_prose:
            pool = matching_prose
        elif max(scores) <= 0.0 and any(prose):
            pool = [i for i in range(len(found)) if prose[i]]
        else:
            pool = list(range(len(found)))
    best = max(pool, key=lambda i: (scores[i], -i))
    start, end = found[best]
    return Highlight(passage[start:end], start, end)


def _learned_scores(
    question_text: str,
    analysed: Passage,
    idf: Callable[[str], float] | None,
    scorer: LinearRanker,
    sentence_scores: Sequence[float] | None,
) -> list[float]:
    q = analyse_question(question_text)
    x = sentence_features(q, analysed, term_weights(q, analysed, idf))
    scores = scorer.score(x)
    if sentence_scores is not None:
        scores = scores + DENSE_WEIGHT * np.asarray(sentence_scores, dtype=np.float64)
    return scores.tolist()


def _lexical_scores(
    question_text: str, passage: str, analysed: Passage, idf: Callable[[str], float] | None
) -> list[float]:
    q = analyse_question(question_text)
    scores = lexical_scores(q, analysed, term_weights(q, analysed, idf))
    if q.terms and q.cue is not None:
        _add_answer_type_bonus(q.cue == "number", passage, analysed.spans, q.terms, scores)
    return scores


def _add_answer_type_bonus(
    numeric_cue: bool,
    passage: str,
    spans: list[tuple[int, int]],
    q_terms: frozenset[str],
    scores: list[float],
) -> None:
    """Among sentences within the bonus of the best lexical score, favour those holding an answer.

    Only near-ties can change order, so the (slower) entity check runs on those alone.
    """
    top = max(scores)
    if top <= 0.0:
        return
    for i, (start, end) in enumerate(spans):
        if scores[i] <= 0.0 or scores[i] + ANSWER_TYPE_BONUS < top:
            continue
        if numeric_cue:
            has_answer = _NUMBER.search(passage, start, end) is not None
        else:
            has_answer = _has_new_entity(passage[start:end], q_terms)
        if has_answer:
            scores[i] += ANSWER_TYPE_BONUS


def _has_new_entity(sentence: str, q_terms: frozenset[str]) -> bool:
    """Whether the sentence names something the question does not (a capitalised word or a number)."""
    if _NUMBER.search(sentence):
        return True
    for word in _CAPITALISED.findall(sentence):
        lowered = word.lower()
        if lowered not in STOPWORDS and light_stem(lowered) not in q_terms:
            return True
    return False
