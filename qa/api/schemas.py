"""What the API sends: the response models every route declares, so its OpenAPI schema is what is sent."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, Field

from embeddings.articles import Article
from embeddings.writer import IndexReport
from qa.hits import Answer, RelatedArticle, RelatedCopy


class ErrorResponse(BaseModel):
    """The body of every error response (documented so the OpenAPI schema matches what is sent)."""

    detail: str = Field(..., description="One line saying what was wrong.")
    errors: list[dict[str, Any]] | None = Field(None, description="Validation errors, field by field.")


class RelatedCopyOut(BaseModel):
    article_id: str
    date: dt.date | None
    source: str | None
    url: str | None


class HitOut(BaseModel):
    """One passage that answers the question, with its article's metadata."""

    text: str = Field(..., description="The passage text.")
    score: float = Field(..., description="Ranking score (higher is better; comparable within one answer).")
    article_id: str
    title: str
    date: dt.date | None = Field(..., description="The article's publication date.")
    source: str | None
    url: str | None
    position: int = Field(..., description="Index within its article of the passage that ranked.")
    span: list[int] = Field(
        ...,
        description="[start, end) of `text` in the article text: the passage, extended over the"
        " neighbouring passages of the article that ranked too or were chosen with it, so that no"
        " text of an article is shown twice (setting merge_adjacent).",
    )
    highlight: str = Field(..., description="The sentence of the passage that best answers the question.")
    highlight_span: list[int] = Field(..., description="[start, end) of the highlight in `text`.")
    duplicates: list[str] = Field(
        ..., description="Other articles carrying a passage of this hit word for word (syndication)."
    )
    copies: list[RelatedCopyOut] = Field(
        ..., description="The same articles as `duplicates`, with their dates, sources and urls."
    )
    match: float | None = Field(
        ...,
        ge=0.0,
        le=1.0,
        description="The probability that this passage is what an archive holding the story answers"
        " with, rather than the best an archive without it has; null with QA_MATCH=false, an index"
        " without its lexical part, or vectors of another model than the match model was fitted on.",
    )
    weak: bool | None = Field(
        ...,
        description="Whether `match` (unrounded) is below the model's threshold of a weak match (where"
        " 1 % of the first hits that answered the train questions fall); when every hit is weak, the archive"
        " may not hold the answer. Null where `match` is.",
    )


class InterpretedOut(BaseModel):
    """A date window read from the question ("in November 2023", "last week"): preferred, or a
    filter when `filtered`."""

    since: dt.date | None
    until: dt.date | None
    text: str = Field(..., description="The words it was read from.")
    anchor: dt.date | None = Field(
        None,
        description='The date relative words ("last week", "in November") were read against;'
        " null when the words name fixed dates.",
    )
    clock: Literal["as_of", "today", "archive"] | None = Field(
        None,
        description="Where `anchor` came from: the request's as_of, today, or `archive`: no as_of was"
        " given and the archive's newest article is older than today, so its date stands for today.",
    )
    filtered: bool = Field(
        False,
        description="Whether the window restricted the hits (QA_TIME_FILTER, or a question asking for"
        " nothing but news of that time) rather than only being preferred.",
    )
    set_aside: bool = Field(
        False,
        description="The request gave its own since/until, which decide: the window was read but neither"
        " preferred nor a filter.",
    )
    inside: int = Field(
        ...,
        ge=0,
        description="How many of the hits are dated inside the window. 0 with hits: the archive"
        " answered from other dates only (it may hold nothing of that time).",
    )
    description: str = Field(
        "",
        description="One line to show people, e.g. \"reading 'last week' as 2024-03-14 to 2024-03-28,"
        " relative to 2024-03-28, the archive's last day (it ends before today)\".",
    )


class AnswerOut(BaseModel):
    """The passages that answer one question."""

    question: str = Field(..., description="The question as answered (surrounding whitespace removed).")
    as_of: dt.date = Field(..., description="Articles published after this date were not considered.")
    interpreted: InterpretedOut | None
    unknown_sources: list[str] = Field(
        ...,
        description="Sources asked for (`sources`) that no article in the archive is from; names match"
        " without regard to case, and GET /sources lists those it holds.",
    )
    hits: list[HitOut]

    @classmethod
    def of(cls, answer: Answer) -> AnswerOut:
        # `Answer.to_dict` is the one place that names the JSON fields; validating it here means a
        # field it renamed or dropped fails loudly instead of drifting from the schema.
        return cls.model_validate(answer.to_dict())


class BatchAnswerOut(AnswerOut):
    id: str | None = Field(..., description="The id given with the question, if any.")


class BatchOut(BaseModel):
    answers: list[BatchAnswerOut] = Field(..., description="One answer per question, in order.")

    @classmethod
    def of(cls, ids: list[str | None], answers: list[Answer]) -> BatchOut:
        pairs = zip(ids, answers, strict=True)
        return cls.model_validate({"answers": [{"id": i, **a.to_dict()} for i, a in pairs]})


class ArticleOut(BaseModel):
    """One indexed article, in the record form `POST /articles` accepts."""

    id: str
    title: str
    text: str
    date: dt.date | None
    source: str | None
    url: str | None

    @classmethod
    def of(cls, article: Article) -> ArticleOut:
        return cls.model_validate(article.to_record())


class RelatedArticleOut(BaseModel):
    article_id: str
    title: str
    date: dt.date | None
    source: str | None
    url: str | None
    score: float = Field(..., description="Similarity to the given article (higher is closer).")
    copies: list[RelatedCopyOut] = Field(
        ..., description="Syndicated copies of this article (sharing a passage's words), shown once with it."
    )


class RelatedOut(BaseModel):
    article_id: str
    copies: list[RelatedCopyOut] = Field(
        ...,
        description="Syndicated copies of the article itself (the same story elsewhere), not in `related`.",
    )
    related: list[RelatedArticleOut] = Field(..., description="The most similar articles, best first.")

    @classmethod
    def of(cls, article_id: str, related: list[RelatedArticle], copies: list[RelatedCopy]) -> RelatedOut:
        return cls.model_validate(
            {
                "article_id": article_id,
                "copies": [c.to_dict() for c in copies],
                "related": [r.to_dict() for r in related],
            }
        )


class IndexReportOut(BaseModel):
    """What one write did, and the index it left."""

    added: int
    updated: int
    unchanged: int
    deleted: int
    missing: list[str] = Field(..., description="Ids asked for that are not indexed.")
    passages_embedded: int
    passages_reused: int
    version: int | None = Field(..., description="The live index version after the write.")
    articles: int
    passages: int
    ids: list[str] = Field(
        default_factory=list,
        description="POST /articles: the id each article is stored under, in the request's order"
        " (derived from its title and text where it gave none).",
    )
    notes: list[str] = Field(
        default_factory=list,
        description="POST /articles: what to check in the dates sent (articles without a date, which"
        " date filters never find; articles dated after today, which answers leave out until that day"
        " and which move the archive's last day and with it what relative time words mean).",
    )

    @classmethod
    def of(
        cls, report: IndexReport, ids: list[str] | None = None, notes: list[str] | None = None
    ) -> IndexReportOut:
        return cls.model_validate(report.summary() | {"ids": ids or [], "notes": notes or []})


class HealthOut(BaseModel):
    status: Literal["ok", "no index", "damaged", "unavailable"]
    index: bool = Field(..., description="Whether an index exists to answer from.")
    version: int | None = Field(None, description="The live index version (absent without an index).")
    detail: str | None = Field(
        None, description="Why answers are refused (damaged or unavailable; status 503)."
    )


class LearnedOut(BaseModel):
    """A learned file in use (ranker, highlighter, match model, related ranker)."""

    name: str
    packaged: bool = Field(
        ..., description="Read from the package's file (no QA_*_PATH names another for it)."
    )
    data: str | None = Field(None, description="The question set it was fitted on.")
    encoder: str | None = Field(None, description="The model whose vectors it was fitted on, where it says.")
    fits: bool = Field(
        ...,
        description="Fitted on this service's model (or says nothing of it); else refit it.",
    )


class StatsOut(BaseModel):
    """Counts of articles and passages, the model, and the index on disk."""

    articles: int
    passages: int
    model: str
    dim: int
    backend: str
    version: int
    created: str
    index_bytes: int
    index_dir: str | None = Field(
        None, description="Where the index lives: only to requests that may write (the token, or loopback)."
    )
    sources: dict[str, int] = Field(..., description="Articles per source, the 20 largest sources.")
    learned: list[LearnedOut] = Field(
        ..., description="The learned files the configuration uses, and whether each suits the model."
    )


class SourceOut(BaseModel):
    name: str
    articles: int = Field(..., description="Articles from this source.")


class SourcesOut(BaseModel):
    """What the archive holds: its sources, and where it ends."""

    sources: list[SourceOut] = Field(..., description="Every source, most articles first.")
    newest: dt.date | None = Field(..., description="The newest article's date (null when none is dated).")

    @classmethod
    def of(cls, sources: list[tuple[str, int]], newest: dt.date | None) -> SourcesOut:
        return cls(sources=[SourceOut(name=n, articles=a) for n, a in sources], newest=newest)
