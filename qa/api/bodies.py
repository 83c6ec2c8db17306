"""What the API receives: the request bodies of the routes that take one."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, StrictInt

_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
MAX_SOURCES = 1000  # names one request may filter by


def _written_date(value: object) -> object:
    """A date is sent as the text YYYY-MM-DD: a number, or digits, are refused, not read as
    seconds since 1970 (pydantic's reading of both)."""
    if value is None or isinstance(value, dt.date):
        return value
    if not isinstance(value, str) or not _ISO_DAY.fullmatch(value.strip()):
        raise ValueError("a date is a string YYYY-MM-DD")
    return value.strip()


# Numbers, flags and dates are taken as JSON types them: `"k": "3"`, `"k": 2.5`, `"interpret": 0`
# and `"since": 1700000000` are 422s saying so, where pydantic's lax mode would have guessed.
# `GET /search` reads its dates the same way (a query string's `k=3` is text, read as a number).
WrittenDate = Annotated[dt.date, BeforeValidator(_written_date)]


class AnswerOptions(BaseModel):
    """How many passages, and which articles may answer: shared by /ask and /ask/batch. A field
    it does not know (`"sorces"`) is a 422, not a filter silently left out."""

    model_config = ConfigDict(extra="forbid")

    k: StrictInt = Field(5, description="Number of passages to return (1..100).")
    since: WrittenDate | None = Field(None, description="Only articles published on or after this date.")
    until: WrittenDate | None = Field(None, description="Only articles published on or before this date.")
    sources: list[str] | None = Field(
        None, max_length=MAX_SOURCES, description=f"Only articles from these sources (at most {MAX_SOURCES})."
    )
    as_of: WrittenDate | None = Field(None, description="Answer as of this date (default today).")
    interpret: StrictBool = Field(
        True,
        description='Read time expressions in the question ("last week") as a preferred date window;'
        " false matches the question's words only.",
    )


class AskRequest(AnswerOptions):
    question: str = Field(..., description="A natural-language question.", examples=["Who won?"])


class BatchQuestion(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str | None = None
    question: str


class BatchRequest(AnswerOptions):
    questions: list[str | BatchQuestion] = Field(..., description="Questions, as strings or {id, question}.")


class ArticleRecord(BaseModel):
    id: str | StrictInt | None = None  # `true` and `1.0` are not ids
    title: str | None = None
    text: str | None = None
    body: str | None = None
    date: str | None = None
    published_at: str | None = None
    source: str | None = None
    url: str | None = None


class ArticlesRequest(BaseModel):
    articles: list[ArticleRecord] = Field(..., description="Articles to add or replace (by id).")
