"""Milvus filter expressions: literals, and the contract's `Filters` as a boolean expression."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence

from embeddings.backends.base import UNDATED, Filters

CHUNK = 1_000  # values per `in [...]` list (and ids per query): expressions stay short to parse


def strings(values: Iterable[str]) -> str:
    """A Milvus list literal of strings: JSON's quoting is the expression language's."""
    return json.dumps(list(values), ensure_ascii=False)


def ints(values: Iterable[int]) -> str:
    return "[" + ",".join(str(int(v)) for v in values) + "]"


def string(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def chunks(values: Sequence, size: int = CHUNK) -> Iterator[Sequence]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def restriction(filters: Filters, newest_day: int) -> str:
    """The passages `filters` allow, as an expression over `day` and `source_key` ("" for all).

    `since`/`until` exclude undated articles (day `UNDATED`); `as_of` excludes only articles dated
    after it, and nothing when the archive ends on or before it (`newest_day`)."""
    parts = []
    if filters.since is not None:
        parts.append(f"day >= {filters.since.toordinal()}")  # ordinals start at 1 > UNDATED
    if filters.until is not None:
        parts.append(f"day != {UNDATED} and day <= {filters.until.toordinal()}")
    if filters.as_of is not None and filters.as_of.toordinal() < newest_day:
        parts.append(f"(day == {UNDATED} or day <= {filters.as_of.toordinal()})")
    if filters.sources:
        parts.append(f"source_key in {strings(sorted({s.lower() for s in filters.sources}))}")
    return " and ".join(parts)


def both(*expressions: str) -> str:
    """The conjunction of the non-empty expressions, each parenthesised."""
    return " and ".join(f"({e})" for e in expressions if e)
