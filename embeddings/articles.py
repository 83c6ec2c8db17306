"""Article and passage records shared by readers, chunker, index and service."""

from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass

# Article ids are addressed as one URL path segment (`/articles/{id}`), so they hold no "/", and are
# printable: the same id is accepted by `qa index`, `POST /articles`, get, related and delete.
MAX_ID_CHARS = 256
MAX_SOURCE_CHARS = 500  # a source is a name: every count by source keeps it, in JSON rows of Milvus's log too
MAX_TITLE_CHARS = 2_000  # a headline; what a Milvus field holds (64 KiB) with room, for every backend alike
MAX_URL_CHARS = 8_000


@dataclass(frozen=True, slots=True)
class Article:
    """One news article as read from a file or a JSON record.

    `text` is the cleaned body (debris removed); `title` is never empty (readers derive one
    from the first sentence or headline-like line when the record has none).
    """

    id: str
    title: str
    text: str
    date: dt.date | None = None
    source: str | None = None
    url: str | None = None
    path: str | None = None

    def __post_init__(self) -> None:
        # As scripts build them: a `datetime` is its day (rows keep days), an empty source or url
        # is none. Anything else of the wrong type is `article_problem`'s to refuse.
        if isinstance(self.date, dt.datetime):
            object.__setattr__(self, "date", self.date.date())
        for name in ("source", "url"):
            value = getattr(self, name)
            if isinstance(value, str) and not value.strip():
                object.__setattr__(self, name, None)

    def to_record(self) -> dict[str, str | None]:
        """The JSON record form (`id, title, text, date, source, url`) the readers and API accept."""
        return {
            "id": self.id,
            "title": self.title,
            "text": self.text,
            "date": self.date.isoformat() if self.date else None,
            "source": self.source,
            "url": self.url,
        }


@dataclass(frozen=True, slots=True)
class Passage:
    """A contiguous span of an article's text: `article.text[start:end] == text`."""

    article_id: str
    position: int
    start: int
    end: int
    text: str


def is_text(value: str) -> bool:
    """Whether `value` can be stored and sent as UTF-8 (no lone UTF-16 surrogate, e.g. from a JSON
    `"\\ud800"` escape or an undecodable command-line byte)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def id_problem(article_id: str) -> str | None:
    """Why `article_id` cannot be an article's id (None when it can)."""
    if not article_id or article_id != article_id.strip():
        return "id is empty or has surrounding whitespace"
    if len(article_id) > MAX_ID_CHARS:
        return f"id is longer than {MAX_ID_CHARS} characters"
    if not is_text(article_id):
        return "id holds a lone surrogate, which is not text"
    if "/" in article_id or article_id in (".", ".."):
        return 'id holds "/" or is "." or "..": an id must be one URL path segment'
    if any(unicodedata.category(c) == "Cc" for c in article_id):
        return "id holds a control character"
    return None


def article_problem(article: Article, max_chars: int | None = None) -> str | None:
    """Why `article` cannot be indexed as it is (None when it can): a field of the wrong type, a
    bad id, an empty title or text, text over `max_chars`, a field that is not text."""
    if not isinstance(article.id, str):
        return f"id is not a string (got {type(article.id).__name__})"
    if (problem := id_problem(article.id)) is not None:
        return problem
    for name in ("title", "text"):
        value = getattr(article, name)
        if not isinstance(value, str):
            return f"{name} is not a string (got {type(value).__name__})"
        if not value or value.isspace():
            return f"{name} is empty"
    if not any(c.isalnum() for c in article.text):  # only marks, spaces or invisible characters
        return "text has no letters or digits"
    if "\x00" in article.text:
        return "text contains NUL characters"
    if max_chars is not None and len(article.text) > max_chars:
        return f"text longer than {max_chars} characters ({len(article.text)})"
    if article.date is not None and not isinstance(article.date, dt.date):
        return f"date is not a datetime.date (got {type(article.date).__name__} {article.date!r})"
    for name in ("source", "url"):
        value = getattr(article, name)
        if value is not None and not isinstance(value, str):
            return f"{name} is not a string (got {type(value).__name__})"
    fields = {"title": article.title, "text": article.text, "source": article.source, "url": article.url}
    bad = [name for name, value in fields.items() if value is not None and not is_text(value)]
    if bad:
        return f"{bad[0]} holds a lone surrogate, which is not text"
    if article.source is not None and len(article.source) > MAX_SOURCE_CHARS:
        return f"source is longer than {MAX_SOURCE_CHARS} characters"  # a name, not a text
    if len(article.title) > MAX_TITLE_CHARS:
        return f"title is longer than {MAX_TITLE_CHARS} characters"
    if article.url is not None and len(article.url) > MAX_URL_CHARS:
        return f"url is longer than {MAX_URL_CHARS} characters"
    return None
