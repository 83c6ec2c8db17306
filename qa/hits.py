"""The passages a user sees: the one place raw search results become hits with their article's metadata."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal

from embeddings.backends.base import PassageRow

Clock = Literal["as_of", "today", "archive"]

# The longest hit text sent. Passages are at most 256 model tokens (about 1,500 characters of news
# text; two merged about 3,000), so only a passage of an older index with a run of characters
# without whitespace (once kept whole, whatever its length) is ever cut.
MAX_HIT_CHARS = 8_000


@dataclass(frozen=True, slots=True)
class Hit:
    """One answer passage, with where and when its article was published.

    `text` is `article.text[start:end]`: the ranked passage (the `position`-th of its article),
    or that passage extended over the neighbouring passages of its article that ranked too or
    were chosen with it (`shaping.cards`). `highlight` is the sentence of `text` that best answers
    the question, at `text[highlight_start:highlight_end]`; `duplicates` lists other articles
    carrying a passage of the hit word for word (syndicated copies collapsed into it), and
    `copies` the same articles with their dates, sources and urls. `match` is
    the probability that the passage is what an archive holding the story answers with
    (`qa.retrieval.match`), and `weak` whether that is below the model's threshold of a weak match.
    """

    text: str
    score: float
    article_id: str
    title: str
    date: dt.date | None
    source: str | None
    url: str | None
    position: int
    start: int
    end: int
    highlight: str = ""
    highlight_start: int = 0
    highlight_end: int = 0
    duplicates: tuple[str, ...] = field(default_factory=tuple)
    passage_id: int = -1
    copies: tuple[RelatedCopy, ...] = field(default_factory=tuple)
    match: float | None = None  # see `qa.retrieval.match`; None when not measured
    weak: bool | None = None  # `match` below the model's weak threshold

    @classmethod
    def from_row(
        cls,
        row: PassageRow,
        score: float,
        *,
        duplicates: tuple[str, ...] = (),
        copies: tuple[RelatedCopy, ...] = (),
        highlight: tuple[str, int, int] = ("", 0, 0),
    ) -> Hit:
        """The hit for a metadata row; `highlight` is `(text, start, end)` within the row's text."""
        return cls(
            row.text,
            score,
            row.article_id,
            row.title,
            row.date,
            row.source,
            row.url,
            row.position,
            row.start,
            row.end,
            *highlight,
            duplicates=duplicates,
            passage_id=row.id,
            copies=copies,
        )

    def to_dict(self) -> dict[str, Any]:
        """The hit as sent; a text longer than `MAX_HIT_CHARS` (an index chunked before long runs
        without whitespace were cut) is cut there, its spans with it, so an answer has a size bound."""
        text, end = self.text, self.end
        highlight, h_start, h_end = self.highlight, self.highlight_start, self.highlight_end
        if len(text) > MAX_HIT_CHARS:
            text, end = text[:MAX_HIT_CHARS], self.start + MAX_HIT_CHARS
            h_start, h_end = min(h_start, MAX_HIT_CHARS), min(h_end, MAX_HIT_CHARS)
            highlight = text[h_start:h_end]
        return {
            "text": text,
            "score": round(float(self.score), 6),
            "article_id": self.article_id,
            "title": self.title,
            "date": self.date.isoformat() if self.date else None,
            "source": self.source,
            "url": self.url,
            "position": self.position,
            "span": [self.start, end],
            "highlight": highlight,
            "highlight_span": [h_start, h_end],
            "duplicates": list(self.duplicates),
            "copies": [c.to_dict() for c in self.copies],
            "match": None if self.match is None else round(float(self.match), 3),
            "weak": self.weak,
        }


@dataclass(frozen=True, slots=True)
class Interpretation:
    """A date window read from the question's own words ("in November 2023", "last week").

    `anchor` is the date that relative words ("last week", "in November") were read against, None
    when the words name fixed dates; `clock` says where it came from: "as_of" (the caller's as-of
    date), "today", or "archive" (no as-of date was given and the archive's newest article is
    older than today: the archive's last day stands for today). `filtered`: the window restricted
    the hits (the time filter, or a question about nothing but a time); otherwise articles inside
    it were preferred. `inside`: how many of the answer's hits are dated inside the window (None
    until counted); 0 with hits means the archive answered from other dates only, as it does when
    it holds nothing of that time. `set_aside`: the request gave its own since/until, which decide
    instead: the window was read (and is said) but neither preferred nor a filter.
    """

    since: dt.date | None
    until: dt.date | None
    text: str
    anchor: dt.date | None = None
    clock: Clock | None = None
    filtered: bool = False
    inside: int | None = None
    set_aside: bool = False

    @property
    def description(self) -> str:
        """One line for people, e.g. "reading 'last week' as 2024-03-14 to 2024-03-28, relative to
        2024-03-28, the archive's last day (it ends before today)"."""
        if self.set_aside:
            dates = _span(self.since, self.until)
            return f"not reading {self.text!r} as dates ({dates}): the request's since/until decide"
        line = f"reading {self.text!r} as {_span(self.since, self.until)}"
        if self.anchor is not None and self.clock == "archive":
            line += f", relative to {self.anchor}, the archive's last day (it ends before today)"
        elif self.anchor is not None and self.clock == "as_of":
            line += f", relative to the as-of date {self.anchor}"
        if self.filtered:
            line += "; only articles from that window"
        elif self.inside == 0:
            line += "; none of the answers is from that window"
        return line

    def to_dict(self) -> dict[str, Any]:
        return {
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "text": self.text,
            "anchor": self.anchor.isoformat() if self.anchor else None,
            "clock": self.clock,
            "filtered": self.filtered,
            "inside": self.inside,
            "set_aside": self.set_aside,
            "description": self.description,
        }


def _span(since: dt.date | None, until: dt.date | None) -> str:
    if since is not None and since == until:
        return since.isoformat()
    if since is not None and until is not None:
        return f"{since} to {until}"
    if since is not None:
        return f"{since} onwards"
    return f"up to {until}" if until is not None else "any date"


@dataclass(frozen=True, slots=True)
class Answer:
    """The response to one question."""

    question: str
    hits: list[Hit]
    as_of: dt.date
    interpreted: Interpretation | None = None
    # Sources asked for that no article of the archive is from (a misspelt name finds nothing).
    unknown_sources: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "as_of": self.as_of.isoformat(),
            "interpreted": self.interpreted.to_dict() if self.interpreted else None,
            "unknown_sources": list(self.unknown_sources),
            "hits": [h.to_dict() for h in self.hits],
        }


@dataclass(frozen=True, slots=True)
class RelatedCopy:
    """A syndicated copy of a related article (it shares a passage's words with it), shown with it."""

    article_id: str
    date: dt.date | None
    source: str | None
    url: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "article_id": self.article_id,
            "date": self.date.isoformat() if self.date else None,
            "source": self.source,
            "url": self.url,
        }


@dataclass(frozen=True, slots=True)
class RelatedArticle:
    """An article similar to a given one, with the syndicated copies of it that were collapsed into
    it (`copies`: other articles sharing a passage's words with it, "also published by")."""

    article_id: str
    title: str
    date: dt.date | None
    source: str | None
    url: str | None
    score: float
    copies: tuple[RelatedCopy, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "article_id": self.article_id,
            "title": self.title,
            "date": self.date.isoformat() if self.date else None,
            "source": self.source,
            "url": self.url,
            "score": round(float(self.score), 6),
            "copies": [c.to_dict() for c in self.copies],
        }
