"""Sentence boundaries as character spans, tolerant of news-style abbreviations and initials."""

from __future__ import annotations

import re

# Words after which a period does not end a sentence.
_ABBREVIATIONS = frozenset(
    """mr mrs ms dr prof gen col lt sgt capt cmdr adm maj gov sen rep rev st jr sr sec pres
    no vs etc inc ltd co corp dept est fig jan feb mar apr jun jul aug sep sept oct nov dec
    mt ft approx u.s u.k u.n e.g i.e a.m p.m""".split()
)
_BOUNDARY = re.compile(r"[.!?]+[\"'”’)\]]*\s+|\n\s*")


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Split `text` into sentence spans `(start, end)`, whitespace trimmed, in order.

    Newlines are hard breaks (news bodies put one paragraph per line). A period after a known
    abbreviation, a single capital initial ("A. Munir") or inside a number does not end a sentence.
    """
    spans: list[tuple[int, int]] = []
    start = 0
    for m in _BOUNDARY.finditer(text):
        if "\n" not in m.group() and not _ends_sentence(text, m.start(), m.end()):
            continue
        _append(text, start, m.end(), spans)
        start = m.end()
    _append(text, start, len(text), spans)
    return spans


def _ends_sentence(text: str, mark: int, after: int) -> bool:
    if text[mark] != ".":
        return True
    word = text[:mark].rsplit(None, 1)[-1].lstrip("(\"'“‘").lower() if text[:mark].strip() else ""
    if word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha()):
        return False
    # "U.S. officials": dotted acronyms continue unless a capitalised sentence plainly follows.
    if re.fullmatch(r"(?:[a-z]\.)+[a-z]", word):
        return False
    nxt = text[after : after + 1]
    return not (nxt and (nxt.islower() or nxt.isdigit()))


def _append(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        spans.append((start, end))
