"""Whether a line of a scraped news page reads as prose, or is page debris a highlight should skip."""

from __future__ import annotations

import re

__all__ = ["is_prose"]

# A sentence ends in ., !, ? or … (then perhaps closing quotes or brackets). Headlines, captions,
# link text, menu items and list entries do not.
_SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]*$")
# Both searched in the lowercased line (faster than IGNORECASE, which the highlight pays per sentence).
_URL = re.compile(r"https?://|\bwww\.\w")
# What a page says about itself rather than the news: disclaimers, sign-up prompts, credits.
_BOILERPLATE = re.compile(
    r"\b(?:newsroom|newsletters?|subscribe|subscription|sign\s+up|click\s+here|follow\s+(?:us|him|her)"
    r"|all\s+rights\s+reserved|copyright|advertisement|terms\s+of\s+(?:use|service)|privacy\s+policy"
    r"|contributed\s+to\s+this\s+report|download\s+the\s+app|this\s+story\s+has\s+been\s+updated)\b"
)
MIN_WORDS = 3  # fewer words than this is a fragment ("Louisiana.", "Photo: AP.")


def is_prose(sentence: str) -> bool:
    """Whether `sentence` (a stripped sentence or line) reads as a sentence of the story.

    Not prose: a line that does not end like a sentence (a headline, caption, link text or menu
    item; a lead-in ending with ":" such as "See power outage maps:"), one holding a URL, a
    fragment of fewer than `MIN_WORDS` words, an all-capitals line, and boilerplate about the
    page itself ("Sports betting operators have no influence over ... the newsroom", "Sign up
    for our newsletter").
    """
    if _SENTENCE_END.search(sentence) is None or len(sentence.split()) < MIN_WORDS:
        return False
    # all capitals: every letter upper case (`str.isupper` first, in C: it fails on any lower-case
    # letter, and on a line without cased letters, which this rule does not catch either)
    if sentence.isupper() and all(c.isupper() for c in sentence if c.isalpha()):
        return False
    lowered = sentence.lower()
    if ("http" in lowered or "www." in lowered) and _URL.search(lowered) is not None:
        return False
    return _BOILERPLATE.search(lowered) is None
