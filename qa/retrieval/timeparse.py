"""Explicit time expressions in a news question turned into an inclusive date window."""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["TimeWindow", "interpret_time"]


@dataclass(frozen=True, slots=True)
class TimeWindow:
    """An inclusive date window; `None` on a side means open on that side.

    `text` is the matched expression (several expressions are joined with "; "); `relative` says
    whether reading it depended on the anchor date ("last week", "in November"), not only on the
    words ("in November 2023").
    """

    since: dt.date | None
    until: dt.date | None
    text: str
    relative: bool = False


# ---------------------------------------------------------------------------------------------
# Vocabulary

_MONTHS: dict[str, int] = {
    "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7,
    "august": 8, "september": 9, "october": 10, "november": 11, "december": 12,
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "sept": 9,
    "oct": 10, "nov": 11, "dec": 12,
}  # fmt: skip
_FULL = "january|february|march|april|may|june|july|august|september|october|november|december"
_ABBR = "jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec"
# Abbreviations only ever appear together with a day or a year (never as a bare month).
_MON = rf"(?P<mon>(?:{_FULL})\b|(?:{_ABBR})\b\.?)"
_ORD = r"(?:st|nd|rd|th)?"
# Month words that are also common English words: lowercase ones count only next to a year
# or after a time preposition ("Who may run", "a protest march on Sunday").
_AMBIGUOUS_MONTHS = frozenset({"may", "march", "mar"})
_AMBIGUOUS_PREPS = frozenset(
    {"in", "on", "during", "since", "until", "till", "throughout", "from", "between"}
)
# "Theresa May 2019": a capitalised word that is no time word right before "May" makes it a surname.
_NAME_BEFORE_MAY = re.compile(
    r"\b(?!(?:In|On|During|Since|After|Before|Until|Till|Through|Throughout|From|Between|Of|By|The|"
    r"Early|Late|Mid|Last|This|Next|And|Or|To|Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|"
    r"Sunday)\b)[A-Z][a-z]+\s+$"
)
# "in may be" never happens, "this may be" does: a verb-like word after the month rules it out.
_AFTER_MODAL = re.compile(
    r"\s+(?:be|have|not|also|well|never|still|even|soon|help|take|make|need|want|lead|cause|see|get|"
    r"go|come|become|seem|face|run|win|lose|use|affect|mean|require|include|prove|continue)\b",
    re.IGNORECASE,
)

_NUMBER_WORDS: dict[str, int] = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "few": 4, "several": 4,
}  # fmt: skip
_NUM = r"(?P<n>\d{1,3}|an?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|few|several)"

_YEAR_MIN, _YEAR_MAX = 1900, 2100
# Words after a bare 4-digit number that make it a count, not a year ("in 2000 cases").
_COUNT_NOUNS = (
    r"people|persons|cases|deaths|vehicles|cars|units|times|troops|soldiers|jobs|homes|houses|"
    r"dollars|euros|pounds|tons|tonnes|votes|members|workers|employees|residents|refugees|"
    r"migrants|students|children|patients|km|miles|meters|metres|feet|words|pages|points"
)

# Context in front of an atom: an optional preposition, "the", then an optional qualifier.
_PREFIX = re.compile(
    r"(?P<prep>\b(?:in|on|during|since|after|before|until|till|through|throughout|from|between|"
    r"around|circa|prior\s+to|as\s+of|of|and|to|last|this|year)\s+)?"
    r"(?P<the>\bthe\s+)?"
    r"(?P<qual>\b(?:early|late|mid)[\s-]+|"
    r"\bthe\s+(?:end|start|beginning|middle|first\s+half|second\s+half|spring|summer|autumn|fall|"
    r"winter)\s+of\s+)?$",
    re.IGNORECASE,
)
_YEAR_PREPS = frozenset(
    {"in", "during", "since", "after", "before", "until", "till", "through", "throughout", "from",
     "between", "around", "circa", "prior to", "as of", "of", "year"}
)  # fmt: skip
_MONTH_PREPS = frozenset(
    {"in", "on", "during", "since", "after", "before", "until", "till", "through", "throughout",
     "from", "between", "of", "prior to", "as of", "last", "this"}
)  # fmt: skip
# Prepositions that are part of the expression's text (a caller may cut the span out).
_SPAN_PREPS = frozenset(
    {"in", "on", "during", "since", "after", "before", "until", "till", "through", "throughout",
     "from", "between", "around", "circa", "prior to", "as of", "last", "this"}
)  # fmt: skip
_RANGE_GAP = re.compile(r"\s*(?:and|to|until|till|through|-|–|—)\s*(?:the\s+)?", re.IGNORECASE)
# Two days of one month ("1-3 November", "November 1 to 3"): a dash always joins them, a word only
# after the preposition that goes with it ("between 1 and 3", "from 1 to 3").
_DAY_GAP = r"(?P<gap>\s*[-–—]\s*|\s+(?:and|to|through|until|till)\s+)"
_DAY_GAP_PREPS: dict[str, str] = {
    "and": "between", "to": "from", "through": "from", "until": "from", "till": "from",
}  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Date arithmetic


def _month_end(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return dt.date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def _previous_month(as_of: dt.date) -> tuple[dt.date, dt.date]:
    start = _add_months(as_of.replace(day=1), -1)
    return start, _month_end(start.year, start.month)


def _recent_day(month: int, day: int, anchor: dt.date) -> tuple[dt.date, dt.date] | None:
    """The most recent `month`/`day` not after `anchor` (Feb 29 searches back to a leap year)."""
    for year in range(anchor.year, anchor.year - 9, -1):
        try:
            candidate = dt.date(year, month, day)
        except ValueError:
            continue
        if candidate <= anchor:
            return candidate, candidate
    return None


# ---------------------------------------------------------------------------------------------
# Atoms: one time expression each, resolved against an anchor date.

_Resolver = Callable[[dt.date], tuple[dt.date, dt.date] | None]


@dataclass(frozen=True, slots=True)
class _Atom:
    start: int
    end: int
    resolve: _Resolver
    kind: str  # "date", "month", "year", "bare_month", "relative"
    month_word: str = ""  # the month as written, for the may/march check
    # "1-3 November", "2019-2021": a range in itself, so "from" in front opens nothing
    day_range: bool = False


def _nothing(_anchor: dt.date) -> None:
    return None


def _fixed(since: dt.date, until: dt.date) -> _Resolver:
    return lambda _anchor: (since, until)


def _year_ok(text: str) -> bool:
    return _YEAR_MIN <= int(text) <= _YEAR_MAX


def _day_window(year: int, month: int, day: int) -> _Resolver | None:
    if not _YEAR_MIN <= year <= _YEAR_MAX:
        return None
    try:
        date = dt.date(year, month, day)
    except ValueError:
        return None
    return _fixed(date, date)


def _month_window(year: int, month: int) -> _Resolver | None:
    if not _YEAR_MIN <= year <= _YEAR_MAX:
        return None
    return _fixed(dt.date(year, month, 1), _month_end(year, month))


def _short_year_month(yy: int, month: int) -> _Resolver:
    """A month of a year written with two digits ("March '23"): the latest such year at most one
    after the anchor's."""

    def resolve(anchor: dt.date) -> tuple[dt.date, dt.date] | None:
        year = anchor.year + 1 - (anchor.year + 1 - yy) % 100
        return _month_window(year, month)(anchor) if _YEAR_MIN <= year <= _YEAR_MAX else None

    return resolve


def _no_year_day(month: int, day: int) -> _Resolver | None:
    try:
        dt.date(2000, month, day)  # a leap year: Feb 29 is valid without a year
    except ValueError:
        return None
    return lambda anchor: _recent_day(month, day, anchor)


def _days_window(year: int | None, month: int, first: int, last: int) -> _Resolver | None:
    """Days `first`..`last` of one month; without a year, the most recent such run ending by the anchor."""
    last_day = _no_year_day(month, last) if year is None else _day_window(year, month, last)
    if last_day is None:
        return None

    def resolve(anchor: dt.date) -> tuple[dt.date, dt.date] | None:
        found = last_day(anchor)
        return None if found is None else (found[1].replace(day=first), found[1])

    return resolve


def _day_pair(question: str, match: re.Match[str]) -> tuple[int, int] | None:
    """The first and last day of a plausible day range, or None.

    The days must ascend within 1..31 (a score "3-1" does not), and days joined by a word need
    the preposition that goes with it right in front ("on 1 and 3 November" is two days).
    """
    first, last = int(match["d1"]), int(match["d"])
    if not 1 <= first < last <= 31:
        return None
    prep = _DAY_GAP_PREPS.get(match["gap"].strip().lower())
    before = question[max(0, match.start() - 12) : match.start()]
    if prep is not None and re.search(rf"\b{prep}\s+$", before, re.IGNORECASE) is None:
        return None
    return first, last


def _bare_month(month: int) -> _Resolver:
    def resolve(anchor: dt.date) -> tuple[dt.date, dt.date]:
        year = anchor.year if month <= anchor.month else anchor.year - 1
        return dt.date(year, month, 1), _month_end(year, month)

    return resolve


def _absolute_atoms(question: str) -> list[tuple[int, _Atom]]:
    """Every candidate absolute expression as (priority, atom); overlaps are resolved later."""
    found: list[tuple[int, _Atom]] = []

    def add(
        priority: int, match: re.Match[str], resolver: _Resolver | None, kind: str, day_range: bool = False
    ) -> None:
        # An impossible date ("February 30, 2021") still claims its span, so that no shorter
        # reading of it ("February") survives; it resolves to nothing.
        month_word = match.group("mon") if "mon" in match.re.groupindex else ""
        resolve = resolver if resolver is not None else _nothing
        atom = _Atom(match.start(), match.end(), resolve, kind, month_word or "", day_range)
        found.append((priority, atom))

    for pattern, priority, kind in _DAY_RANGES:
        for m in pattern.finditer(question):
            days = _day_pair(question, m)
            if days is not None:
                year = int(m["y"]) if "y" in pattern.groupindex else None
                add(priority, m, _days_window(year, _month_of(m), *days), kind, day_range=True)

    for m in _ISO.finditer(question):
        add(0, m, _day_window(int(m["y"]), int(m["m"]), int(m["d"])), "date")
    for m in _MDY.finditer(question):
        add(1, m, _day_window(int(m["y"]), _month_of(m), int(m["d"])), "date")
    for m in _DMY.finditer(question):
        add(1, m, _day_window(int(m["y"]), _month_of(m), int(m["d"])), "date")
    for m in _MY.finditer(question):
        add(2, m, _month_window(int(m["y"]), _month_of(m)), "month")
    for m in _MY_SHORT.finditer(question):
        add(2, m, _short_year_month(int(m["yy"]), _month_of(m)), "month")
    for m in _MD.finditer(question):
        add(3, m, _no_year_day(_month_of(m), int(m["d"])), "day_no_year")
    for m in _DM.finditer(question):
        add(3, m, _no_year_day(_month_of(m), int(m["d"])), "day_no_year")
    for m in _DECADE.finditer(question):
        if _year_ok(m["y"]):
            year = int(m["y"])
            add(4, m, _fixed(dt.date(year, 1, 1), dt.date(year + 9, 12, 31)), "decade")
    for m in _YEAR.finditer(question):
        if _year_ok(m["y"]):
            year = int(m["y"])
            add(5, m, _fixed(dt.date(year, 1, 1), dt.date(year, 12, 31)), "year")
    for m in _YEAR_RANGE.finditer(question):
        first, last = int(m["y"]), int(m["y2"])
        if last < 100:  # "2019-20"
            last += first - first % 100
        if _year_ok(m["y"]) and first < last <= _YEAR_MAX:
            add(4, m, _fixed(dt.date(first, 1, 1), dt.date(last, 12, 31)), "year", day_range=True)
    for m in _BARE_MONTH.finditer(question):
        add(6, m, _bare_month(_month_of(m)), "bare_month")
    for m in _PART_OF_YEAR.finditer(question):
        # "fall" is a verb too ("prices fall 2024"): a season only after in/of/the/during/...
        verb = (m["season"] or "").lower() == "fall" and not _FALL_CONTEXT.search(
            question, 0, m.start("season")
        )
        if _year_ok(m["y"]) and not verb:
            add(2, m, _part_of_year(m, int(m["y"])), "month")
    return found


# Parts of a year named with it: quarters ("Q3 2024", "the third quarter of 2024"), halves ("H1
# 2024", "the first half of 2024") and seasons ("spring 2023", "summer of 2024"; northern ones,
# as meteorologists count them: winter 2024 is December 2023 to February 2024).
_ORDINALS = {"first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4, "4th": 4}
_FALL_CONTEXT = re.compile(
    r"\b(?:in|of|the|during|by|since|until|through|after|before|this|last|next|early|late)\s+$",
    re.IGNORECASE,
)
_SEASONS = {"spring": (3, 5), "summer": (6, 8), "autumn": (9, 11), "fall": (9, 11), "winter": (12, 2)}
_PART_OF_YEAR = re.compile(
    r"(?<![\w-])(?:the\s+)?(?:q(?P<q>[1-4])|h(?P<h>[12])"
    r"|(?P<nth>first|1st|second|2nd|third|3rd|fourth|4th)\s+(?P<unit>quarter|half)"
    r"|(?P<season>spring|summer|autumn|fall|winter))"
    r",?\s+(?:of\s+)?(?P<y>\d{4})(?![\w%]|[.,/]\d)",
    re.IGNORECASE,
)


def _part_of_year(m: re.Match[str], year: int) -> _Resolver | None:
    if m["season"]:
        first, last = _SEASONS[m["season"].lower()]
        start = dt.date(year - 1 if first > last else year, first, 1)
        return _fixed(start, _month_end(year, last)) if year - 1 >= _YEAR_MIN or first <= last else None
    if m["q"] or (m["unit"] or "").lower() == "quarter":
        number = int(m["q"]) if m["q"] else _ORDINALS[m["nth"].lower()]
        first, last = 3 * number - 2, 3 * number
    else:
        number = int(m["h"]) if m["h"] else _ORDINALS[m["nth"].lower()]
        if number > 2:
            return None  # "third half" is no half
        first, last = 6 * number - 5, 6 * number
    return _fixed(dt.date(year, first, 1), _month_end(year, last))


def _month_of(match: re.Match[str]) -> int:
    return _MONTHS[match["mon"].lower().rstrip(".")]


_FLAGS = re.IGNORECASE
_ISO = re.compile(r"(?<![\w/-])(?P<y>\d{4})([-/])(?P<m>\d{1,2})\2(?P<d>\d{1,2})(?![\w/-])", _FLAGS)
_MDY = re.compile(rf"(?<!\w){_MON}\s+(?P<d>\d{{1,2}}){_ORD},?\s+(?P<y>\d{{4}})(?![\w%]|[.,]\d)", _FLAGS)
_DMY = re.compile(
    rf"(?<![\w.,$])(?P<d>\d{{1,2}}){_ORD}\s+(?:of\s+)?{_MON},?\s+(?P<y>\d{{4}})(?![\w%]|[.,]\d)", _FLAGS
)
_MY = re.compile(rf"(?<!\w){_MON},?\s+(?:of\s+)?(?P<y>\d{{4}})(?![\w%]|[.,]\d)", _FLAGS)
_MY_SHORT = re.compile(rf"(?<!\w){_MON},?\s+['’](?P<yy>\d{{2}})(?![\w%]|[.,]\d)", _FLAGS)
_MD = re.compile(rf"(?<!\w){_MON}\s+(?P<d>\d{{1,2}}){_ORD}(?![\w%-]|[.,:]\d)", _FLAGS)
_DM = re.compile(rf"(?<![\w.,$])(?P<d>\d{{1,2}}){_ORD}\s+(?:of\s+)?{_MON}", _FLAGS)
_DECADE = re.compile(r"(?<![\w$€£.,])(?P<y>\d{3}0)['’]?s\b", _FLAGS)
_YEAR = re.compile(
    rf"(?<![\w$€£.,/])(?P<y>\d{{4}})(?![\w%]|[.,/]\d|\s*[-–]\s*\d|\s+(?:{_COUNT_NOUNS})\b)", _FLAGS
)
_YEAR_RANGE = re.compile(r"(?<![\w$€£.,/])(?P<y>\d{4})\s*[-–]\s*(?P<y2>\d{4}|\d{2})(?![\w%]|[.,/]\d)", _FLAGS)
_BARE_MONTH = re.compile(rf"(?<!\w)(?P<mon>{_FULL})\b", _FLAGS)
_DAYS = rf"(?P<d1>\d{{1,2}}){_ORD}{_DAY_GAP}(?P<d>\d{{1,2}}){_ORD}"
_THE_YEAR = r",?\s+(?P<y>\d{4})(?![\w%]|[.,]\d)"
_DAY_RANGES: list[tuple[re.Pattern[str], int, str]] = [
    (re.compile(rf"(?<!\w){_MON}\s+{_DAYS}{_THE_YEAR}", _FLAGS), 1, "date"),
    (re.compile(rf"(?<![\w.,$]){_DAYS}\s+(?:of\s+)?{_MON}{_THE_YEAR}", _FLAGS), 1, "date"),
    (re.compile(rf"(?<!\w){_MON}\s+{_DAYS}(?![\w%-]|[.,:]\d)", _FLAGS), 3, "day_no_year"),
    (re.compile(rf"(?<![\w.,$]){_DAYS}\s+(?:of\s+)?{_MON}", _FLAGS), 3, "day_no_year"),
]  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Relative expressions (always resolved against `as_of`).


def _past(n: int, unit: str, as_of: dt.date) -> tuple[dt.date, dt.date]:
    if unit == "day":
        return as_of - dt.timedelta(days=n), as_of
    if unit == "week":
        return as_of - dt.timedelta(weeks=n), as_of
    if unit == "month":
        return _add_months(as_of, -n), as_of
    return _add_months(as_of, -12 * n), as_of


def _ago(n: int, unit: str, as_of: dt.date) -> tuple[dt.date, dt.date]:
    # One unit of slack either side: "two weeks ago" is approximate in speech.
    if unit == "day":
        return as_of - dt.timedelta(days=n + 1), as_of - dt.timedelta(days=max(n - 1, 0))
    if unit == "week":
        return as_of - dt.timedelta(weeks=n + 1), as_of - dt.timedelta(weeks=max(n - 1, 0))
    if unit == "month":
        start = _add_months(as_of.replace(day=1), -n - 1)
        end = _add_months(as_of.replace(day=1), -n + 1)
        return start, min(_month_end(end.year, end.month), as_of)
    year = as_of.year - n
    return dt.date(year, 1, 1), dt.date(year, 12, 31)


def _n_of(match: re.Match[str]) -> int:
    text = match["n"]
    if text is None:
        return 1
    return int(text) if text.isdigit() else _NUMBER_WORDS[text.lower()]


_RelativeRule = tuple[re.Pattern[str], Callable[[re.Match[str], dt.date], tuple[dt.date, dt.date]]]

_RELATIVE: list[_RelativeRule] = [
    (re.compile(r"\b(?:today|tonight|this\s+morning|this\s+afternoon|this\s+evening)\b", _FLAGS),
     lambda _m, d: (d, d)),
    # Yesterday's events are reported today as much as yesterday: keep both days. The day before
    # it likewise keeps the day after ("before yesterday" on its own would open the start).
    (re.compile(r"\b(?:the\s+)?day\s+before\s+yesterday\b", _FLAGS),
     lambda _m, d: (d - dt.timedelta(days=2), d - dt.timedelta(days=1))),
    (re.compile(r"\b(?:yesterday|last\s+night)\b", _FLAGS),
     lambda _m, d: (d - dt.timedelta(days=1), d)),
    (re.compile(r"\b(?:earlier\s+)?this\s+(?:past\s+)?week(?:end)?\b", _FLAGS),
     lambda _m, d: (d - dt.timedelta(days=7), d)),
    # "last week" asked on a Monday can mean 13 days back: be generous and keep two weeks.
    (re.compile(r"\blast\s+week(?:end)?\b", _FLAGS),
     lambda _m, d: (d - dt.timedelta(days=14), d)),
    (re.compile(r"\b(?:earlier\s+)?this\s+month\b", _FLAGS),
     lambda _m, d: (d.replace(day=1), d)),
    (re.compile(r"\blast\s+month\b", _FLAGS),
     lambda _m, d: _previous_month(d)),
    (re.compile(r"\b(?:earlier\s+)?this\s+year\b", _FLAGS),
     lambda _m, d: (dt.date(d.year, 1, 1), d)),
    (re.compile(r"\blast\s+year\b", _FLAGS),
     lambda _m, d: (dt.date(d.year - 1, 1, 1), dt.date(d.year - 1, 12, 31))),
    (re.compile(rf"\b(?:the\s+)?(?:past|last|previous)\s+(?:{_NUM}\s+)?(?P<unit>day|week|month|year)s?\b",
                _FLAGS),
     lambda m, d: _past(_n_of(m), m["unit"].lower(), d)),
    (re.compile(rf"\b{_NUM}\s+(?P<unit>day|week|month|year)s?\s+ago\b", _FLAGS),
     lambda m, d: _ago(_n_of(m), m["unit"].lower(), d)),
]  # fmt: skip


def _relative_atoms(question: str, as_of: dt.date) -> list[tuple[int, _Atom]]:
    found: list[tuple[int, _Atom]] = []
    for priority, (pattern, rule) in enumerate(_RELATIVE):
        for m in pattern.finditer(question):
            try:
                since, until = rule(m, as_of)
            except (ValueError, OverflowError):  # "999 years ago" before year 1
                continue
            found.append((priority, _Atom(m.start(), m.end(), _fixed(since, until), "relative")))
    return found


# ---------------------------------------------------------------------------------------------
# Putting it together


@dataclass(frozen=True, slots=True)
class _Context:
    prep: str  # normalised preposition in front ("" when none)
    qualified: bool  # "early", "late", "mid-", "the end of", ...
    span_start: int  # where the expression's text starts (preposition/qualifier included)


# Expressions that are dates whatever precedes them keep a preposition across "the" ("before the
# 1990s", "since the 5th of March"); a year or a month alone would turn a name into a date.
_AFTER_THE = frozenset({"date", "day_no_year", "month", "decade"})


def _context(question: str, atom: _Atom) -> _Context:
    window_start = max(0, atom.start - 40)
    m = _PREFIX.search(question, window_start, atom.start)
    if m is None:  # pragma: no cover - the pattern matches the empty string
        return _Context("", False, atom.start)
    prep = " ".join((m["prep"] or "").lower().split())
    if m["the"] is not None and atom.kind not in _AFTER_THE:
        prep = ""  # "in the 2020 election", "in the March rally": no time context
    qualified = m["qual"] is not None
    if prep in _SPAN_PREPS:
        span_start = m.start("prep")
    elif qualified:
        span_start = m.start("qual")
    else:
        span_start = atom.start
    return _Context(prep, qualified, span_start)


def _is_strong(question: str, atom: _Atom, ctx: _Context) -> bool:
    """Whether the atom counts on its own (years and bare months need a time context)."""
    if atom.kind == "year":
        return ctx.prep in _YEAR_PREPS or ctx.qualified or question[atom.end : atom.end + 2] in ("'s", "’s")
    word = atom.month_word.rstrip(".")
    if word == "May" and _NAME_BEFORE_MAY.search(question, max(0, atom.start - 30), atom.start):
        return False
    lowercase_ambiguous = word.lower() in _AMBIGUOUS_MONTHS and word[0].islower()
    if atom.kind == "bare_month":
        if lowercase_ambiguous:
            return ctx.prep in _AMBIGUOUS_PREPS and _AFTER_MODAL.match(question, atom.end) is None
        return ctx.prep in _MONTH_PREPS or ctx.qualified
    if atom.kind == "day_no_year" and lowercase_ambiguous:
        return ctx.prep in _AMBIGUOUS_PREPS
    return True


def _select(candidates: list[tuple[int, _Atom]]) -> list[_Atom]:
    """Non-overlapping atoms, longest first; on equal length the lower priority number wins."""
    chosen: list[_Atom] = []
    for _priority, atom in sorted(candidates, key=lambda c: (c[1].start - c[1].end, c[0], c[1].start)):
        if all(atom.end <= other.start or atom.start >= other.end for other in chosen):
            chosen.append(atom)
    return sorted(chosen, key=lambda a: a.start)


def _modified(prep: str, since: dt.date, until: dt.date) -> tuple[dt.date | None, dt.date | None]:
    if prep in ("since", "from"):
        return since, None
    if prep == "after":
        return until + dt.timedelta(days=1), None
    if prep in ("before", "prior to"):
        return None, since - dt.timedelta(days=1)
    if prep in ("until", "till", "through"):
        return None, until
    return since, until


def _bare_month_resolver(atom: _Atom, prep: str) -> _Resolver:
    """'last November' is the most recent November that has ended; 'this November' is this year's."""
    month = _MONTHS[atom.month_word.lower()]
    if prep == "this":
        return lambda anchor: (dt.date(anchor.year, month, 1), _month_end(anchor.year, month))
    if prep == "last":
        return lambda anchor: _bare_month(month)(_add_months(anchor.replace(day=1), -1))
    return atom.resolve


_Window = tuple[dt.date | None, dt.date | None, str, bool]  # since, until, text, relative
_ANCHORED = frozenset({"relative", "day_no_year", "bare_month"})
_LIST_GAP = re.compile(r"\s*(?:,|,?\s*and|,?\s*or)\s*", re.IGNORECASE)


def _range(question: str, first: _Atom, ctx: _Context, second: _Atom, as_of: dt.date) -> _Window | None:
    """'between X and Y' / 'from X to Y' as one window; Y needs no context of its own."""
    if ctx.prep not in ("between", "from") or "relative" in (first.kind, second.kind):
        return None
    gap = question[first.end : second.start]
    if _RANGE_GAP.fullmatch(gap) is None or (ctx.prep == "between" and "and" not in gap.lower()):
        return None
    end_window = second.resolve(as_of)
    # A year-less start ("between March and May 2023") is the most recent one before the end.
    start_window = first.resolve(end_window[1]) if end_window else None
    if end_window is None or start_window is None:
        return None
    since, until = min(start_window[0], end_window[0]), max(start_window[1], end_window[1])
    # The start is read against the end, so only the end can tie the range to the anchor.
    return since, until, question[ctx.span_start : second.end], second.kind in _ANCHORED


_YEAR_WORDS = re.compile(r"(?:last|this)\s+year", re.IGNORECASE)
_MONTH_YEAR_GAP = re.compile(r"\s*(?:,|of)?\s*", re.IGNORECASE)


def _named_year(question: str, month: _Atom, after: _Atom, as_of: dt.date) -> int | None:
    """The year "last year" or "this year" right after a month without one names ("in May last
    year", "January of this year"), or None."""
    if month.kind != "bare_month" or after.kind != "relative":
        return None
    if not _YEAR_WORDS.fullmatch(question[after.start : after.end]):
        return None
    if not _MONTH_YEAR_GAP.fullmatch(question[month.end : after.start]):
        return None
    try:
        window = after.resolve(as_of)
    except (ValueError, OverflowError):
        return None
    return window[0].year if window is not None and window[0] is not None else None


def _listed_month_end(question: str, atoms: list[_Atom], i: int, as_of: dt.date) -> dt.date | None:
    """The last day of the month with a year that ends a list of months from `atoms[i]` on ("in
    March and April 2023", "May, June and July 2024"), which the months before it belong to; or None."""
    before = atoms[i - 1]
    for after in atoms[i:]:
        if _LIST_GAP.fullmatch(question[before.end : after.start]) is None:
            return None
        if after.kind == "month" and after.month_word:
            window = after.resolve(as_of)
            return None if window is None else window[1]
        if after.kind != "bare_month":
            return None
        before = after
    return None


def interpret_time(question: str, as_of: dt.date) -> TimeWindow | None:
    """Find explicit time expressions in a question and turn them into one date window.

    Absolute forms: "2021-12-01", "December 1st, 2021", "1 December 2021", "November 2023",
    "March '23" (the latest such year at most one after `as_of`'s),
    "in 2019", "2023's", "the 1990s", "Q3 2024" / "the third quarter of 2024", "H1 2024" / "the
    first half of 2024", "spring 2023" (northern seasons; winter 2024 is Dec 2023-Feb 2024; "fall"
    only after in/of/the/...), "on November 1" / "in November" (no year: the most recent one not
    after `as_of`; "in May last year" / "January this year": that month of that year; "in March
    and April 2023": the months listed before a month with a year end by it), days of
    one month ("November 1-3, 2023", "between 1 and 3 November", "from November 1 to 3";
    ascending days only, so a score "won 3-1 in November" stays a month).
    Modifiers: "since X" and "from X" (open end; not for a range: "from 1-3 May", "from 2019-21"),
    "after X", "before X" / "prior to X" (open start), "until/through X", "between X and Y",
    "from X to Y". Relative forms (against `as_of`): today; yesterday (as_of-1..as_of); this week
    (as_of-7..as_of); last week (as_of-14..as_of, generous on purpose); this/last month and year
    (calendar periods, "this" ending at `as_of`); "the past N days/weeks/months/years"; "N weeks
    ago" (one unit of slack). "early/late/mid 2023" is the whole year.

    A 4-digit number is a year only in a year context (after in/of/since/before/after/during/
    between/from/until/through/around, after a month name or early/late/mid, or as "2023's"), so
    "16-year-old", "112,000 vehicles", "$2019", "Covid-19" or "iPhone 15" never match. Lowercase
    "may"/"march" count only next to a day or year after a preposition, or next to a year.

    When several expressions appear, the result is the widest window covering them all (an open
    side anywhere stays open), so that filtering by it never drops an article one of them asks
    about; but open starts and open ends alone ("after 2020 but before 2022") bound one window
    when the starts come before the ends. `text` joins the matched expressions with "; ".

    Args:
        question: The user's question.
        as_of: The date the question is asked on (anchors relative and year-less expressions).

    Returns:
        The window, or None when no time expression was found.
    """
    candidates = _absolute_atoms(question) + [(p + 10, a) for p, a in _relative_atoms(question, as_of)]
    atoms = _select(candidates)
    contexts = [_context(question, atom) for atom in atoms]

    windows: list[_Window] = []
    i = 0
    last_end = -1  # end of the previous accepted absolute expression, for "in 2019 and 2020"
    while i < len(atoms):
        atom, ctx = atoms[i], contexts[i]
        listed = last_end >= 0 and _LIST_GAP.fullmatch(question[last_end : atom.start]) is not None
        strong = _is_strong(question, atom, ctx) or listed
        if strong and i + 1 < len(atoms):
            try:
                ranged = _range(question, atom, ctx, atoms[i + 1], as_of)
            except (ValueError, OverflowError):  # near year 1 or 9999: no such date to read
                ranged = None
            if ranged is not None:
                windows.append(ranged)
                last_end = atoms[i + 1].end
                i += 2
                continue
        i += 1
        if not strong:
            continue
        resolver = _bare_month_resolver(atom, ctx.prep) if atom.kind == "bare_month" else atom.resolve
        end = atom.end
        anchor = as_of
        relative = atom.kind in _ANCHORED
        if (
            atom.kind == "bare_month"
            and i < len(atoms)
            and not listed  # "in May and June last year": the list keeps the wider reading
            and (year := _named_year(question, atom, atoms[i], as_of))
        ):
            anchor, end = dt.date(year, 12, 31), atoms[i].end  # "in May last year": May of that year
            i += 1
        elif atom.kind == "bare_month" and ctx.prep not in ("last", "this"):
            listed_end = _listed_month_end(question, atoms, i, as_of)
            anchor, relative = (listed_end, False) if listed_end else (as_of, True)
        try:
            resolved = resolver(anchor)
        except (ValueError, OverflowError):  # "in November" as of 0001-01-01: no such November
            continue
        if resolved is None:
            continue
        text = question[ctx.span_start : end]
        prep = "" if atom.day_range and ctx.prep == "from" else ctx.prep  # "from 1 to 3 May" is closed
        windows.append((*_modified(prep, *resolved), text, relative))
        last_end = end if atom.kind != "relative" else -1

    if not windows:
        return None
    since, until = _bounds(windows)
    return TimeWindow(since, until, "; ".join(w[2] for w in windows), any(w[3] for w in windows))


def _bounds(windows: list[_Window]) -> tuple[dt.date | None, dt.date | None]:
    """The widest window covering every one; but a start and an end said apart ("after 2020 but
    before 2022", "since March 2023 until today") bound one window, when they leave one."""
    sinces = [w[0] for w in windows]
    untils = [w[1] for w in windows]
    starts = [w[0] for w in windows if w[0] is not None and w[1] is None]
    ends = [w[1] for w in windows if w[1] is not None and w[0] is None]
    if starts and ends and len(starts) + len(ends) == len(windows) and min(starts) <= max(ends):
        return min(starts), max(ends)
    since = None if None in sinces else min(s for s in sinces if s is not None)
    until = None if None in untils else max(u for u in untils if u is not None)
    return since, until
