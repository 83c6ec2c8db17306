"""Reading a question: its time expressions become a date window, the rest is what is matched."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from embeddings.text import terms
from qa.hits import Clock, Interpretation
from qa.retrieval.ranking import Window
from qa.retrieval.timeparse import interpret_time

# Words that, once the time expression is gone, leave a question asking for nothing but news of
# that time ("What happened last week?", "Any news today?", "What's new this month?").
_NEWS_WORDS = frozenset(
    terms("happened happening news new latest events going on stories headlines top anything updates")
)


@dataclass(frozen=True, slots=True)
class QuestionClock:
    """The date relative time words are read against, and where it came from."""

    date: dt.date
    source: Clock


def question_clock(as_of: dt.date | None, newest: dt.date | None, today: dt.date) -> QuestionClock:
    """The as-of date when given; else today, unless the archive ends before today: then its newest
    article's date (an archive of 2024 asked "what happened last week?" in 2026 answers about the
    last week it holds, not a week it has no articles for)."""
    if as_of is not None:
        return QuestionClock(as_of, "as_of")
    if newest is not None and newest < today:
        return QuestionClock(newest, "archive")
    return QuestionClock(today, "today")


@dataclass(frozen=True, slots=True)
class Query:
    """What retrieval matches (`text`) and prefers (`window`), and what to tell the user.

    `window_filter`: the window restricts the whole index (as explicit dates do) rather than
    being preferred. `words` is the whole question, time expressions included (what BM25 matches
    with `lexical_time`: "in 1954" is a date window and still a word that finds the article).
    """

    text: str
    window: Window | None
    interpreted: Interpretation | None
    window_filter: bool = False
    words: str = ""


def read_query(
    question: str,
    clock: QuestionClock,
    *,
    interpret: bool,
    explicit_dates: bool,
    strip_time: bool,
    time_filter: bool = False,
) -> Query:
    """Read time expressions ("in November 2023", "last week") against `clock`.

    They become a window unless the caller gave explicit dates (`explicit_dates`): a filter with
    `time_filter` or when the question asks about nothing but that time, else a preference. With
    `strip_time` the words they were read from are left out of the matched text either way.
    """
    found = interpret_time(question, clock.date) if interpret else None
    if found is None:
        return Query(question, None, None, words=question)
    rest = _rest(question, found.text)
    window, interpreted, hard = None, None, False
    anchor, source = (clock.date, clock.source) if found.relative else (None, None)
    if not explicit_dates:
        window = (found.since, found.until)
        hard = time_filter or only_news(rest)
        interpreted = Interpretation(found.since, found.until, found.text, anchor, source, hard)
    else:  # said, so that "in 2023" asked with since 2024 is not silently answered from 2024
        interpreted = Interpretation(found.since, found.until, found.text, anchor, source, set_aside=True)
    # Once a time expression is a date window, its words ("this week") only add noise to matching;
    # a question that is nothing but a time expression keeps them (there is nothing else to match).
    return Query((rest or question) if strip_time else question, window, interpreted, hard, question)


def without_time(question: str, day: dt.date) -> str:
    """The question without its time expressions, whether or not they are read as dates (the
    words a passage is asked to hold; `question` when it has none or nothing else)."""
    found = interpret_time(question, day)
    return (_rest(question, found.text) or question) if found is not None else question


def only_news(text: str) -> bool:
    """Whether `text` asks for nothing but news (no content word beyond "happened", "news", ...)."""
    return all(term in _NEWS_WORDS for term in terms(text))


def _rest(question: str, expressions: str) -> str:
    """The question without the time expressions, spacing collapsed ("" when no word is left)."""
    for expression in expressions.split("; "):
        question = question.replace(expression, " ")
    rest = " ".join(question.split())
    return rest if any(c.isalnum() for c in rest) else ""
