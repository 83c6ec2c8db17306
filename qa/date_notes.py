"""What `qa index` notes of the dates it read (stderr lines, nothing skipped)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence

from embeddings.articles import Article


class DateNotes:
    """What `qa index` says of the dates it read: articles with none (a `.txt` file without its
    ` date` line), which no date filter or window finds, and articles dated after today, which make
    the archive's last day a future one."""

    def __init__(self, today: dt.date | None = None) -> None:
        self.today = today or dt.date.today()
        self.undated: list[str] = []
        self.future: list[tuple[str, dt.date]] = []

    def watch(self, articles: Iterable[Article]) -> Iterator[Article]:
        for article in articles:
            if article.date is None:
                self.undated.append(article.id)
            elif article.date > self.today:
                self.future.append((article.id, article.date))
            yield article

    def notes(self) -> list[str]:
        out = []
        if self.undated:
            out.append(
                f"{_articles(len(self.undated))} without a date ({_examples(self.undated)}):"
                " date filters and time words never find them"
            )
        if self.future:
            named = [f"{i} {d}" for i, d in self.future]
            out.append(
                f"{_articles(len(self.future))} dated after today ({_examples(named)}): check those dates"
            )
        return out


def _examples(items: Sequence[str], shown: int = 3) -> str:
    more = f" and {len(items) - shown} more" if len(items) > shown else ""
    return ", ".join(items[:shown]) + more


def _articles(n: int) -> str:
    return "1 article" if n == 1 else f"{n} articles"
