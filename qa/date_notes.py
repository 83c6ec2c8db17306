"""What `qa index` and `POST /articles` note of the dates they read (nothing is skipped for them)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator

from embeddings.articles import Article

SHOWN = 3  # articles named in a note; the rest are counted


class DateNotes:
    """What `qa index` and `POST /articles` say of the dates they read: articles with none (a
    `.txt` file without its ` date` line), which no date filter or window finds, and articles dated
    after today, which answers leave out until that day and which make the archive's last day a
    future one. It keeps counts and the first few names, not every id."""

    def __init__(self, today: dt.date | None = None) -> None:
        self.today = today or dt.date.today()
        self.undated, self.future = 0, 0
        self.undated_named: list[str] = []
        self.future_named: list[str] = []

    def watch(self, articles: Iterable[Article]) -> Iterator[Article]:
        for article in articles:
            if article.date is None:
                self.undated += 1
                if len(self.undated_named) < SHOWN:
                    self.undated_named.append(article.id)
            elif article.date > self.today:
                self.future += 1
                if len(self.future_named) < SHOWN:
                    self.future_named.append(f"{article.id} {article.date}")
            yield article

    def notes(self) -> list[str]:
        out = []
        if self.undated:
            out.append(
                f"{_articles(self.undated)} without a date ({_examples(self.undated_named, self.undated)}):"
                " date filters and time words never find them"
            )
        if self.future:
            named = _examples(self.future_named, self.future)
            out.append(
                f"{_articles(self.future)} dated after today ({named}): answers leave them out until that day"
                " (or an as-of after it); check those dates"
            )
        return out


def _examples(named: list[str], count: int) -> str:
    more = f" and {count - len(named)} more" if count > len(named) else ""
    return ", ".join(named) + more


def _articles(n: int) -> str:
    return "1 article" if n == 1 else f"{n} articles"
