"""Text analysis, one owner: sentence spans, the highlight's content words, and BM25's tokens.

There are two stopword lists and two stemmers here, on purpose. BM25 (`bm25_tokens`,
`bm25_query_tokens`) uses bm25s's English stopwords and PyStemmer's Snowball stemmer: the index
stores every passage's tokens, so a query must be cut exactly as the passages were when the index
was built, and changing either means rebuilding every index. The highlight (`terms`,
`question_terms`) picks one sentence among a passage's few at answer time and stores nothing; it
uses its own stopwords (news filler such as "said" and "according" included) and `light_stem`, which
strips only plurals, -ing, -ed and a final -e ("organization" stays whole, Snowball gives
"organiz"). `question_terms` keeps the words each term came from, so a light-stemmed term can still
be weighed by the BM25 idf of those words.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

import bm25s
import Stemmer

__all__ = [
    "BM25_STOPWORDS",
    "STOPWORDS",
    "bm25_query_tokens",
    "bm25_tokens",
    "lexical_text",
    "light_stem",
    "question_terms",
    "sentence_terms",
    "snowball_stemmer",
    "split_sentences",
    "terms",
]


def _word_set(words: str) -> frozenset[str]:
    return frozenset(words.split())


# ---------------------------------------------------------------------------------------------
# Sentences

# Titles and other abbreviations that are never followed by a sentence break.
_TITLES = _word_set(
    "mr mrs ms dr prof gen col lt sgt capt cmdr adm maj gov sen rep rev st jr sr hon pres supt det "
    "insp cpl pvt brig lieut messrs mme mlle fr sra mt ft vs cf approx dept univ fig"
)
# Abbreviations that often end a sentence: break only before a typical sentence opener.
_SOFT_ABBREVIATIONS = _word_set(
    "inc ltd corp co plc llc bros etc al no jan feb mar apr jun jul aug sep sept oct nov dec a.m p.m"
)
_OPENERS = _word_set(
    "the a an he she it they we i you his her its their our this that these those there in on at "
    "but and however meanwhile after before when while if as so yet also then some many most "
    "one two three no other"
)

# A newline, or end punctuation (plus closing quotes/brackets) before whitespace. Written with one
# leading character class because sre then skips quickly to candidates (3x faster than "\n|...").
# Punctuation starts a match only at the start of its run: every later start of a run that fails
# would scan the rest of it again, quadratic in a run of 40,000 dots (a minute); it finds the same.
_BOUNDARY = re.compile(r"[\n.!?…](?:(?<=\n)|(?<![.!?…].)[.!?…]*[\"'”’)\]]*(?=\s))")
_NEXT_WORD = re.compile(r"\s*[\"'“‘(\[]*(\w*)")
_OPENING = "\"'“‘(["


def _is_break(text: str, stop: int, end: int) -> bool:
    """Whether the punctuation at `text[stop:end]` (followed by whitespace) ends a sentence."""
    next_match = _NEXT_WORD.match(text, end)
    next_word = next_match.group(1) if next_match else ""
    if not next_word:
        return True
    if next_word[0].islower():
        return False  # sentences do not start in lowercase: "Apple Inc. said", '"Why?" he asked'
    if text[stop] != ".":
        return True  # "!", "?" and "…" before anything else end a sentence
    token_start = stop
    while token_start > 0 and not text[token_start - 1].isspace() and stop - token_start < 30:
        token_start -= 1
    bare = text[token_start:stop].lstrip(_OPENING).lower()
    if bare in _TITLES:
        return False
    # "U.S.", single initials ("A. Munir") and company suffixes end a sentence only before a
    # typical opener ("... in the U.S. The plan ...").
    if bare in _SOFT_ABBREVIATIONS or (len(bare) == 1 and bare.isalpha()) or ("." in bare and len(bare) <= 6):
        return next_word.lower() in _OPENERS
    return True


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Split text into sentences, as character spans with surrounding whitespace excluded.

    Breaks after ".", "!", "?" or "…" (and any closing quotes or brackets) followed by whitespace,
    except after titles ("Gen.", "Mr."), initials ("A. Munir"), dotted acronyms ("U.S.") and
    before a lowercase word; decimals ("3.5") have no whitespace and never break. Every newline is
    a hard break.

    Args:
        text: Any text.

    Returns:
        `(start, end)` pairs in order, each with `text[start:end]` a non-empty stripped sentence.
    """
    spans: list[tuple[int, int]] = []
    start = 0
    for boundary in _BOUNDARY.finditer(text):
        if text[boundary.start()] == "\n":
            _append_stripped(text, start, boundary.start(), spans)
            start = boundary.end()
        elif _is_break(text, boundary.start(), boundary.end()):
            _append_stripped(text, start, boundary.end(), spans)
            start = boundary.end()
    _append_stripped(text, start, len(text), spans)
    return spans


def _append_stripped(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start < end:
        spans.append((start, end))


# ---------------------------------------------------------------------------------------------
# Content words (the highlight's terms)

STOPWORDS = _word_set(
    "a about above after again against all am an and any are aren as at be because been before being "
    "below between both but by can could did didn do does doesn doing don down during each few for "
    "from further had has have having he her here hers herself him himself his how i if in into is it "
    "its itself just me more most my myself no nor not now of off on once only or other our ours "
    "ourselves out over own same she should so some such than that the their theirs them themselves "
    "then there these they this those through to too under until up very was we were what when where "
    "which while who whom why will with would you your yours yourself s t ll re ve d m also said says "
    "say according many much whose per via among amid"
)
_WORD = re.compile(r"\w+")


@lru_cache(maxsize=65536)
def light_stem(word: str) -> str:
    """A light suffix stripper: plurals, -ing, -ed, then a final -e ("received" = "receive")."""
    if len(word) <= 3 or not word.isalpha():
        return word
    if word.endswith("ies") and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith("sses"):
        word = word[:-2]
    elif word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    if word.endswith("ing") and len(word) > 5:
        word = word[:-3]
    elif word.endswith("ed") and len(word) > 4:
        word = word[:-2]
    else:
        return word[:-1] if word.endswith("e") and len(word) > 4 else word
    # "running" -> "runn" -> "run"; "stopped" -> "stopp" -> "stop"
    if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "lsz":
        word = word[:-1]
    return word[:-1] if word.endswith("e") and len(word) > 4 else word


def terms(text: str) -> list[str]:
    """Lowercased, stemmed content words (`STOPWORDS` removed, `light_stem` applied), in order."""
    return [light_stem(w) for w in _WORD.findall(text.lower()) if w not in STOPWORDS]


def sentence_terms(text: str, spans: Sequence[tuple[int, int]]) -> list[list[str]]:
    """`terms(text[start:end])` of each `(start, end)` span, lowercasing the text only once."""
    lowered = text.lower()
    if len(lowered) != len(text):  # lowercasing can change lengths ("İ"), shifting offsets
        return [terms(text[s:e]) for s, e in spans]
    return [[light_stem(w) for w in _WORD.findall(lowered, s, e) if w not in STOPWORDS] for s, e in spans]


def question_terms(question: str) -> dict[str, list[str]]:
    """The question's terms (as `terms` makes them), each with the lowercase words it came from."""
    out: dict[str, list[str]] = {}
    for word in _WORD.findall(question.lower()):
        if word not in STOPWORDS:
            out.setdefault(light_stem(word), []).append(word)
    return out


# ---------------------------------------------------------------------------------------------
# BM25 tokens

BM25_STOPWORDS = "en"  # bm25s's English list


def snowball_stemmer() -> Stemmer.Stemmer:
    """PyStemmer's English Snowball stemmer, the one BM25 indexes with `stem=True` are built with."""
    return Stemmer.Stemmer("english")


def lexical_text(title: str, text: str, title_context: bool) -> str:
    """What BM25 indexes of a passage: its text, after its article's title when `title_context`
    (the setting that also embeds the title with it)."""
    return f"{title}\n{text}" if title_context else text


def bm25_tokens(texts: Sequence[str], stem: bool) -> list[list[str]]:
    """bm25s's tokens of each text: lowercased words, `BM25_STOPWORDS` removed, Snowball-stemmed if `stem`."""
    if not len(texts):
        return []
    stemmer = snowball_stemmer() if stem else None
    return bm25s.tokenize(
        list(texts), stopwords=BM25_STOPWORDS, stemmer=stemmer, return_ids=False, show_progress=False
    )


def bm25_query_tokens(query: str, stemmer: Stemmer.Stemmer | None) -> list[str]:
    """A query's tokens, cut as `bm25_tokens` cut the passages (`stemmer`: the index's, or None)."""
    return bm25s.tokenize(
        query, stopwords=BM25_STOPWORDS, stemmer=stemmer, return_ids=False, show_progress=False
    )[0]
