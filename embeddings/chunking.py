"""Sentence-aware chunking of articles into passages bounded by the model's token limit."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from embeddings.articles import Article, Passage
from embeddings.text import split_sentences

TokenCounter = Callable[[Sequence[str]], list[int]]

# WordPiece reads a run of more than 100 characters without whitespace as one [UNK] token, so the
# token count of such a run says nothing of its length: it is cut into runs of this many characters
# first, which are counted (and embedded) like any other words.
MAX_WORD_CHARS = 100
_LONG_WORD = re.compile(rf"\S{{{MAX_WORD_CHARS + 1},}}")


@dataclass(frozen=True, slots=True)
class ChunkingConfig:
    """Passage size and overlap, in model tokens.

    `size` is the target passage length; `overlap` how many tokens of trailing sentences a
    passage repeats from the one before. `max_tokens` is the hard bound the model accepts for
    the embedded text (passage plus `context_tokens` reserved for the title prefix).
    """

    size: int = 200
    overlap: int = 40
    max_tokens: int = 256
    context_tokens: int = 0

    def __post_init__(self) -> None:
        if self.size < 8:
            raise ValueError(f"chunk size must be at least 8 tokens, got {self.size}")
        if not 0 <= self.overlap < self.size:
            raise ValueError(f"overlap must be in [0, size), got {self.overlap} for size {self.size}")

    @property
    def budget(self) -> int:
        """Largest passage, in tokens, that still fits the model with its context and specials."""
        return max(8, min(self.size, self.max_tokens - self.context_tokens - 2))


def chunk_article(article: Article, count_tokens: TokenCounter, config: ChunkingConfig) -> list[Passage]:
    """Split an article's text into overlapping passages of whole sentences.

    A sentence longer than the budget is cut at word boundaries, so no passage is ever
    truncated by the model. Every passage satisfies `article.text[p.start:p.end] == p.text`.
    """
    text = article.text
    pieces = _bounded_pieces(text, count_tokens, config.budget)
    passages: list[Passage] = []
    i = 0
    while i < len(pieces):
        total, j = 0, i
        while j < len(pieces) and (j == i or total + pieces[j][2] <= config.budget):
            total += pieces[j][2]
            j += 1
        start, end = pieces[i][0], pieces[j - 1][1]
        passages.append(Passage(article.id, len(passages), start, end, text[start:end]))
        if j >= len(pieces):
            break
        # Step back over trailing pieces that fit the overlap, but always move forward.
        back, k = 0, j
        while k - 1 > i and back + pieces[k - 1][2] <= config.overlap:
            back += pieces[k - 1][2]
            k -= 1
        i = k
    return passages


def _bounded_pieces(text: str, count_tokens: TokenCounter, budget: int) -> list[tuple[int, int, int]]:
    """Sentences as `(start, end, tokens)`, long ones cut into runs of words within `budget`."""
    spans = split_sentences(text)
    if not spans:
        return []
    counts = count_tokens([text[s:e] for s, e in spans])
    pieces: list[tuple[int, int, int]] = []
    for (start, end), n in zip(spans, counts, strict=True):
        if n <= budget and not _LONG_WORD.search(text, start, end):
            pieces.append((start, end, n))
        else:
            pieces.extend(_split_long(text, start, end, count_tokens, budget))
    return pieces


def _split_long(
    text: str, start: int, end: int, count_tokens: TokenCounter, budget: int
) -> list[tuple[int, int, int]]:
    words = _word_spans(text, start, end)
    counts = count_tokens([text[s:e] for s, e in words])
    out: list[tuple[int, int, int]] = []
    run_start, run_end, run_tokens = words[0][0], words[0][0], 0
    for (s, e), n in zip(words, counts, strict=True):
        if run_tokens and run_tokens + n > budget:
            out.append((run_start, run_end, run_tokens))
            run_start, run_tokens = s, 0
        if n > budget:
            # A single "word" longer than the budget (a URL, a run of symbols): cut by characters.
            out.extend(_split_chars(text, s, e, count_tokens, budget))
            run_start, run_end, run_tokens = e, e, 0
            continue
        if not run_tokens:  # a run starts at its first word, not at the end of a giant one
            run_start = s
        run_end, run_tokens = e, run_tokens + n
    if run_tokens:
        out.append((run_start, run_end, run_tokens))
    return out


def _split_chars(
    text: str, start: int, end: int, count_tokens: TokenCounter, budget: int
) -> list[tuple[int, int, int]]:
    out: list[tuple[int, int, int]] = []
    step = max(1, budget)  # a token is at least one character, so this many characters always fit
    for s in range(start, end, step):
        e = min(end, s + step)
        out.append((s, e, count_tokens([text[s:e]])[0]))
    return out


def _word_spans(text: str, start: int, end: int) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    i = start
    while i < end:
        while i < end and text[i].isspace():
            i += 1
        j = i
        while j < end and not text[j].isspace():
            j += 1
        spans.extend((k, min(j, k + MAX_WORD_CHARS)) for k in range(i, j, MAX_WORD_CHARS))
        i = j
    return spans
