"""What the highlighters know about a question and the sentences of a passage: the lexical score
and the features the learned highlighter (`highlighter.py`) weighs."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise

import numpy as np

from embeddings.text import STOPWORDS, light_stem, split_sentences, terms
from qa.retrieval.debris import is_prose

__all__ = [
    "FEATURES",
    "Passage",
    "Question",
    "analyse_passage",
    "analyse_question",
    "lexical_scores",
    "sentence_features",
    "term_weights",
]

BIGRAM_WEIGHT = 0.5

# One row per sentence, in this order (the learned highlighter's file names them; a change means a
# refit). "cue" is the kind of answer the question asks for: a number (how many, when, what
# year...) or an entity (who, which, what, where); a "new" name is a capitalised word (not the
# sentence's first) or a number that is not a question term.
FEATURES = (
    "lexical",  # the lexical score (`lexical_scores`)
    "lexical_gap",  # ... minus the passage's best
    "lexical_best",  # the passage's best lexical score, when above zero
    "coverage",  # share of the question's terms in the sentence
    "bigrams",  # idf of the question's bigrams it holds, over the question's idf mass
    "rarest_term",  # holds the question's rarest term
    "no_match",  # shares no term with the question
    "number",  # holds a number that is not a question term
    "number_x_number_cue",
    "number_x_entity_cue",
    "new_names",  # log(1 + distinct new capitalised words)
    "new_name_x_entity_cue",
    "new_names_x_entity_cue",
    "new_name_x_who",
    "new_name_x_where",
    "date_x_when",
    "date",  # names a month or a weekday
    "prose",  # `debris.is_prose`
    "first",  # the passage's first sentence (a lede)
    "position",  # log(1 + index)
    "length",  # log of its content words
    "quote",
    "question_mark",
    "colon",
    "previous_lexical",
    "next_lexical",
    "nearby_lexical",  # best lexical score of the two sentences either side
    "answer_proximity",  # 1 / (1 + words between a question term and a new name), 0 without both
    "answer_proximity_x_cue",
    "head_noun",  # holds the noun after which/what ("which county" -> county)
    "answer_x_cue",  # holds what the cue asks for
)

_WORD = re.compile(r"\w+")
_DATE = re.compile(
    r"\b(?:January|February|March|April|May|June|July|August|September|October|November|December"
    r"|Jan\.|Feb\.|Aug\.|Sept?\.|Oct\.|Nov\.|Dec\.|Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b"
)
_QUOTE = re.compile(r"[\"“”]")
_DIGIT = re.compile(r"\d")
_ENTITY_CUE = re.compile(r"\b(?:who|whom|whose|which|what|where|how\s+many|how\s+much)\b", re.IGNORECASE)
_NUMBER_CUE = re.compile(r"\b(?:how\s+many|how\s+much|when|what\s+year)\b", re.IGNORECASE)
_WHO = re.compile(r"\bwho(?:m|se)?\b", re.IGNORECASE)
_WHERE = re.compile(r"\bwhere\b|\bwhich\s+(?:country|state|city|county|nation|continent)\b", re.IGNORECASE)
_WHEN = re.compile(r"\bwhen\b|\bwhat\s+(?:year|day|date|month)\b", re.IGNORECASE)
_HEAD = re.compile(
    r"\b(?:which|what)\s+(?:(?:type|kind|sort|percentage|number)\s+of\s+(?:the\s+)?)?(\w+)", re.IGNORECASE
)
_NOT_HEAD = frozenset("is was are were did does do has have had will would can could the a an".split())


@dataclass(frozen=True, slots=True)
class Question:
    """A question's terms, its ordered term bigrams, the kind of answer it asks for ("number",
    "entity" or None), its who/where/when words and the noun after which/what."""

    terms: frozenset[str]
    bigrams: frozenset[tuple[str, str]]
    cue: str | None
    who: bool
    where: bool
    when: bool
    head: str | None


@lru_cache(maxsize=1024)
def analyse_question(text: str) -> Question:
    """The `Question` of a question's text; computed once per question, not once per hit."""
    seq = terms(text)
    bigrams = frozenset(pair for pair in pairwise(seq) if pair[0] != pair[1])
    cue = "number" if _NUMBER_CUE.search(text) else "entity" if _ENTITY_CUE.search(text) else None
    found = _HEAD.search(text)
    word = found.group(1).lower() if found else ""
    head = light_stem(word) if word and word not in _NOT_HEAD and word not in STOPWORDS else None
    return Question(
        frozenset(seq),
        bigrams,
        cue,
        _WHO.search(text) is not None,
        _WHERE.search(text) is not None,
        _WHEN.search(text) is not None,
        head,
    )


@dataclass(frozen=True, slots=True)
class Sentence:
    """What a sentence holds whatever the question: its terms in order, its words' terms (None for
    a stopword), and `(term, word position)` of its capitalised words (not the first) and numbers."""

    terms: list[str]
    words: list[str | None]
    names: list[tuple[str, int]]
    numbers: list[tuple[str, int]]
    prose: bool
    date: bool
    quote: bool
    question_mark: bool
    colon: bool


@dataclass(frozen=True, slots=True)
class Passage:
    """A passage's sentence spans and their `Sentence`s."""

    spans: list[tuple[int, int]]
    sentences: list[Sentence]


@lru_cache(maxsize=4096)
def analyse_passage(text: str, known: tuple[tuple[int, int], ...] | None = None) -> Passage:
    """The `Passage` of a text, its spans `known` (as the index stores them) or split here.

    Cached by text: the passages of popular answers recur across questions, and this is most of
    a highlight's cost. Callers must not mutate it.
    """
    spans = list(known) if known is not None else split_sentences(text)
    lowered = text.lower()
    aligned = len(lowered) == len(text)  # lowercasing can change lengths ("İ"), shifting offsets
    out = []
    for start, end in spans:
        sentence = text[start:end]
        # the words as `embeddings.text.sentence_terms` cuts them, so `terms` are the same
        low = _WORD.findall(lowered, start, end) if aligned else _WORD.findall(sentence.lower())
        stems = [None if w in STOPWORDS else light_stem(w) for w in low]
        capitalised = [i for i, w in enumerate(_WORD.findall(sentence)) if i and w[0].isupper()]
        digits = _DIGIT.search(sentence) is not None
        out.append(
            Sentence(
                [t for t in stems if t is not None],
                stems,
                [(t, i) for i in capitalised if i < len(stems) and (t := stems[i]) is not None],
                [(t, i) for i, t in enumerate(stems) if t and t[0].isdigit()] if digits else [],
                is_prose(sentence),
                _DATE.search(sentence) is not None,
                _QUOTE.search(sentence) is not None,
                sentence.rstrip("\"'”’)").endswith("?"),
                ":" in sentence,
            )
        )
    return Passage(spans, out)


def term_weights(q: Question, passage: Passage, idf: Callable[[str], float] | None) -> dict[str, float]:
    """Weight of each question term: `idf(term)`, else an idf over the passage's own sentences,
    `log(1 + (n + 1) / (df + 0.5))`."""
    if idf is not None:
        return {t: float(idf(t)) for t in q.terms}
    n = len(passage.spans)
    df = dict.fromkeys(q.terms, 0)
    for s in passage.sentences:
        for term in q.terms.intersection(s.terms):
            df[term] += 1
    return {t: math.log(1.0 + (n + 1) / (df[t] + 0.5)) for t in q.terms}


def lexical_scores(q: Question, passage: Passage, weight: dict[str, float]) -> list[float]:
    """Per sentence: the weight of question terms it holds, plus `BIGRAM_WEIGHT` x the smaller
    weight of each question bigram it holds in order, over the question's total weight, divided by
    `(max(n, 8) / 8) ** 0.25` for `n` content words (long sentences do not win by size alone)."""
    mass = math.fsum(weight.values()) or 1.0
    return [_match(q, s, weight, mass)[1] for s in passage.sentences]


def _match(
    q: Question, s: Sentence, weight: dict[str, float], mass: float
) -> tuple[frozenset[str], float, float]:
    """The question terms a sentence holds, its lexical score, and its bigrams' share of `mass`.

    Sums of sets are `math.fsum`s: exact, so equal whatever order the set iterates in (which
    changes from process to process), and so are highlights and refits.
    """
    found = q.terms.intersection(s.terms)
    if not found:
        return found, 0.0, 0.0
    bigrams = 0.0
    if len(found) > 1 and q.bigrams:
        pairs = set(pairwise(s.terms))
        bigrams = math.fsum(min(weight[a], weight[b]) for a, b in pairs if (a, b) in q.bigrams)
    score = math.fsum(weight[t] for t in found) + BIGRAM_WEIGHT * bigrams
    return found, score / mass / (max(len(s.terms), 8) / 8) ** 0.25, bigrams / mass


def sentence_features(q: Question, passage: Passage, weight: dict[str, float]) -> np.ndarray:
    """The `FEATURES` of every sentence of `passage` for question `q`, shape `(n, len(FEATURES))`.

    Args:
        q: The question (`analyse_question(text)`).
        passage: The passage (`analyse_passage(text, spans)`).
        weight: The question terms' weights (`term_weights`).
    """
    n = len(passage.spans)
    if not n:
        return np.zeros((0, len(FEATURES)))
    mass = math.fsum(weight.values()) or 1.0
    matches = [_match(q, s, weight, mass) for s in passage.sentences]
    lex = [m[1] for m in matches]
    padded = [0.0, 0.0, *lex, 0.0, 0.0]  # lexical scores are >= 0: no neighbour counts as 0
    top = max(lex)
    rarest = max(sorted(q.terms), key=weight.__getitem__) if q.terms else None
    number_cue, entity_cue = q.cue == "number", q.cue == "entity"
    any_cue = number_cue or entity_cue
    rows = []
    for i, (s, (found, _, bigrams)) in enumerate(zip(passage.sentences, matches, strict=True)):
        new_names = {stem for stem, _ in s.names if stem not in q.terms}
        number = any(stem not in q.terms for stem, _ in s.numbers)
        named = bool(new_names)
        new_at = [j for stem, j in (*s.names, *s.numbers) if stem not in q.terms]
        proximity = 0.0
        if found and new_at:
            asked_at = [j for j, term in enumerate(s.words) if term in found]
            proximity = 1.0 / (1.0 + min(abs(a - b) for a in asked_at for b in new_at))
        answer = number if number_cue else named or number
        rows.append(
            (
                lex[i],
                lex[i] - top,
                lex[i] == top and top > 0,
                len(found) / max(len(q.terms), 1),
                bigrams,
                rarest in found,
                lex[i] == 0,
                number,
                number and number_cue,
                number and entity_cue,
                math.log1p(len(new_names)),
                named and entity_cue,
                math.log1p(len(new_names)) * entity_cue,
                named and q.who,
                named and q.where,
                s.date and q.when,
                s.date,
                s.prose,
                i == 0,
                math.log1p(i),
                math.log(max(len(s.terms), 1)),
                s.quote,
                s.question_mark,
                s.colon,
                lex[i - 1] if i else 0.0,
                lex[i + 1] if i + 1 < n else 0.0,
                max(padded[i], padded[i + 1], padded[i + 3], padded[i + 4]),
                proximity,
                proximity * any_cue,
                q.head is not None and q.head in found,
                answer and any_cue,
            )
        )
    return np.array(rows, dtype=np.float64)  # booleans become 0.0 and 1.0
