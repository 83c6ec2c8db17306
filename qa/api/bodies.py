"""What the API receives: the request bodies of the routes that take one."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field


class AnswerOptions(BaseModel):
    """How many passages, and which articles may answer: shared by /ask and /ask/batch."""

    k: int = Field(5, description="Number of passages to return (1..100).")
    since: dt.date | None = Field(None, description="Only articles published on or after this date.")
    until: dt.date | None = Field(None, description="Only articles published on or before this date.")
    sources: list[str] | None = Field(None, description="Only articles from these sources.")
    as_of: dt.date | None = Field(None, description="Answer as of this date (default today).")
    interpret: bool = Field(
        True,
        description='Read time expressions in the question ("last week") as a preferred date window;'
        " false matches the question's words only.",
    )


class AskRequest(AnswerOptions):
    question: str = Field(..., description="A natural-language question.", examples=["Who won?"])


class BatchQuestion(BaseModel):
    id: str | None = None
    question: str


class BatchRequest(AnswerOptions):
    questions: list[str | BatchQuestion] = Field(..., description="Questions, as strings or {id, question}.")


class ArticleRecord(BaseModel):
    id: str | int | None = None
    title: str | None = None
    text: str | None = None
    body: str | None = None
    date: str | None = None
    published_at: str | None = None
    source: str | None = None
    url: str | None = None


class ArticlesRequest(BaseModel):
    articles: list[ArticleRecord] = Field(..., description="Articles to add or replace (by id).")
