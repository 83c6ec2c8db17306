"""Article and passage records shared by readers, chunker, index and service."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


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
