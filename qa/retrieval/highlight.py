"""Pick the sentence of a passage that best answers a question (the highlight shown to users)."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise

from embeddings.errors import QAError
from embeddings.text import STOPWORDS, light_stem, sentence_terms, split_sentences, terms
from qa.retrieval.debris import is_prose

__all__ = ["Highlight", "best_sentence"]

# Score weights (see best_sentence). The lexical score is a fraction of the question's idf mass,
# about [0, 1.5]; dense scores are cosine similarities, in practice [0, 1] for MiniLM. Lexical
# weighs more because the highlight must show the words the user asked about; the dense part
# rescues paraphrases that share no words with the question.
BIGRAM_WEIGHT = 0.5
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
_ANSWER_CUE = re.compile(r"\b(?:who|whom|whose|which|what|where|how\s+many|how\s+much)\b", re.IGNORECASE)
_NUMERIC_CUE = re.compile(r"\b(?:how\s+many|how\s+much|when|what\s+year)\b", re.IGNORECASE)


def best_sentence(
    question: str,
    passage: str,
    *,
    idf: Callable[[str], float] | None = None,
    sentence_scores: Sequence[float] | None = None,
    spans: Sequence[tuple[int, int]] | None = None,
) -> Highlight:
    """Pick the sentence of `passage` that best answers `question`.

    Lexical score of a sentence: the idf mass of question terms it contains, plus `BIGRAM_WEIGHT`
    x the smaller idf of each question bigram it contains in order, divided by the question's idf
    mass, then divided by `(max(n, 8) / 8) ** 0.25` for a sentence of `n` content words (mild:
    long sentences do not win by size alone). Terms are those of `embeddings.text.terms`:
    lowercased, lightly stemmed content words. Answer-type cue: among matching sentences within
    `ANSWER_TYPE_BONUS` of the best lexical score, those holding the kind of thing the question
    asks for get `ANSWER_TYPE_BONUS`: a number for how many/how much/when/what year, a number or a
    capitalised word (not the sentence's first) that is not a question term for
    who/whom/whose/which/what/where.

    With `sentence_scores` the final score is `LEXICAL_WEIGHT * lexical + DENSE_WEIGHT * dense`.
    Prose comes first: when a sentence that reads as prose (`debris.is_prose`) scores above zero,
    the best of those wins, so a matching headline, caption, link text or boilerplate line is
    passed over; otherwise the best of all. Ties go to the earlier sentence, so a passage with no
    match yields its first prose sentence (its first sentence when it has none).

    Args:
        question: The user's question.
        passage: The passage text.
        idf: Weight of a term, called with the lowercased stemmed term; defaults to an idf over
            the passage's own sentences, `log(1 + (n + 1) / (df + 0.5))`.
        sentence_scores: One score per sentence, aligned with `split_sentences(passage)`, shape
            `(len(split_sentences(passage)),)`, e.g. dense cosine similarities.
        spans: `split_sentences(passage)` when already known (the index stores it per passage).

    Returns:
        The chosen sentence; the whole stripped passage when it has no sentence boundary, and an
        empty highlight at 0 when the passage is empty or whitespace.

    Raises:
        QAError: `sentence_scores` does not have one score per sentence.
    """
    spans, sentences, prose = _analyse(passage, None if spans is None else tuple(spans))
    if sentence_scores is not None and len(sentence_scores) != len(spans):
        raise QAError(f"sentence_scores has {len(sentence_scores)} scores for {len(spans)} sentences")
    if not spans:
        return Highlight("", 0, 0)
    if len(spans) == 1:
        start, end = spans[0]
        return Highlight(passage[start:end], start, end)

    scores = _lexical_scores(question, passage, spans, sentences, idf)
    if sentence_scores is not None:
        scores = [
            LEXICAL_WEIGHT * lex + DENSE_WEIGHT * float(d)
            for lex, d in zip(scores, sentence_scores, strict=True)
        ]
    matching_prose = [i for i in range(len(spans)) if prose[i] and scores[i] > 0.0]
    if matching_prose:
        pool = matching_prose
    elif max(scores) <= 0.0 and any(prose):
        pool = [i for i in range(len(spans)) if prose[i]]
    else:
        pool = list(range(len(spans)))
    best = max(pool, key=lambda i: (scores[i], -i))
    start, end = spans[best]
    return Highlight(passage[start:end], start, end)


@lru_cache(maxsize=4096)
def _analyse(
    passage: str, known: tuple[tuple[int, int], ...] | None
) -> tuple[list[tuple[int, int]], list[list[str]], list[bool]]:
    """Sentence spans of a passage (`known`, else split here), each sentence's `terms`, and
    whether it reads as prose.

    Cached by text: the passages of popular answers recur across questions, and this is most of
    a highlight's cost. Callers must not mutate the returned lists.
    """
    spans = list(known) if known is not None else split_sentences(passage)
    return spans, sentence_terms(passage, spans), [is_prose(passage[a:b]) for a, b in spans]


def _lexical_scores(
    question: str,
    passage: str,
    spans: list[tuple[int, int]],
    sentences: list[list[str]],
    idf: Callable[[str], float] | None,
) -> list[float]:
    q_terms, q_bigrams, cue = _question(question)
    if not q_terms:
        return [0.0] * len(spans)
    matched = [q_terms.intersection(seq) for seq in sentences]

    if idf is None:
        n = len(spans)
        df: dict[str, int] = dict.fromkeys(q_terms, 0)
        for found in matched:
            for term in found:
                df[term] += 1
        weight = {t: math.log(1.0 + (n + 1) / (df[t] + 0.5)) for t in q_terms}
    else:
        weight = {t: float(idf(t)) for t in q_terms}
    mass = sum(weight.values()) or 1.0

    scores: list[float] = []
    for seq, found in zip(sentences, matched, strict=True):
        if not found:
            scores.append(0.0)
            continue
        score = sum(weight[t] for t in found)
        if len(found) > 1 and q_bigrams:
            score += BIGRAM_WEIGHT * sum(
                min(weight[a], weight[b]) for a, b in set(pairwise(seq)) if (a, b) in q_bigrams
            )
        scores.append(score / mass / (max(len(seq), 8) / 8) ** 0.25)
    if cue is not None:
        _add_answer_type_bonus(cue == "number", passage, spans, q_terms, scores)
    return scores


@lru_cache(maxsize=1024)
def _question(question: str) -> tuple[frozenset[str], frozenset[tuple[str, str]], str | None]:
    """A question's terms, its ordered term bigrams, and the kind of answer it asks for
    ("number", "entity" or None); computed once per question, not once per hit."""
    seq = terms(question)
    bigrams = frozenset(pair for pair in pairwise(seq) if pair[0] != pair[1])
    if _NUMERIC_CUE.search(question):
        cue: str | None = "number"
    else:
        cue = "entity" if _ANSWER_CUE.search(question) else None
    return frozenset(seq), bigrams, cue


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
