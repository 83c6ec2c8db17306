"""Reading a question: its time expressions become a date window, the rest is what is matched."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from qa.hits import Interpretation
from qa.retrieval.ranking import Window
from qa.retrieval.timeparse import interpret_time


@dataclass(frozen=True, slots=True)
class Query:
    """What retrieval matches (`text`) and prefers (`window`), and what to tell the user.

    `words` is the whole question, time expressions included (what BM25 matches with
    `lexical_time`: "in 1954" is a date window and still a word that finds the article).
    """

    text: str
    window: Window | None
    interpreted: Interpretation | None
    words: str = ""


def read_query(
    question: str, as_of: dt.date, *, interpret: bool, explicit_dates: bool, strip_time: bool
) -> Query:
    """Read time expressions ("in November 2023", "last week") against `as_of`.

    They become a preferred window unless the caller gave explicit dates (`explicit_dates`);
    with `strip_time` the words they were read from are left out of the matched text either way.
    """
    found = interpret_time(question, as_of) if interpret else None
    if found is None:
        return Query(question, None, None, question)
    window, interpreted = None, None
    if not explicit_dates:
        window = (found.since, found.until)
        interpreted = Interpretation(found.since, found.until, found.text)
    # Once a time expression is a date window, its words ("this week") only add noise to matching.
    text = _without(question, found.text) if strip_time else question
    return Query(text, window, interpreted, question)


def _without(question: str, expressions: str) -> str:
    """The question without the time expressions (itself when nothing else would be left)."""
    rest = question
    for expression in expressions.split("; "):
        rest = rest.replace(expression, " ")
    return " ".join(rest.split()) or question
