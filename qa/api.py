"""HTTP API: a thin FastAPI layer over `QAService`; every bad request is a 4xx with a message."""

from __future__ import annotations

import datetime as dt
import hmac
import ipaddress
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from embeddings.errors import (
    ArticleNotFoundError,
    IndexLockedError,
    IndexMismatchError,
    IndexNotFoundError,
    InvalidArticleError,
    QAError,
)
from embeddings.readers import parse_record
from qa.service import QAService
from qa.settings import Settings

_STATUS: dict[type[QAError], int] = {
    ArticleNotFoundError: 404,
    InvalidArticleError: 422,
    IndexNotFoundError: 503,
    IndexLockedError: 503,
    IndexMismatchError: 503,
}


def _service(request: Request) -> QAService:
    return request.app.state.service


# Module level, not inside create_app: with postponed annotations FastAPI resolves `qa: Service`
# in the module's globals, and a local alias would silently become a required query parameter.
Service = Annotated[QAService, Depends(_service)]


class AskRequest(BaseModel):
    question: str = Field(..., description="A natural-language question.", examples=["Who won?"])
    k: int = Field(5, description="Number of passages to return (1..100).")
    since: dt.date | None = Field(None, description="Only articles published on or after this date.")
    until: dt.date | None = Field(None, description="Only articles published on or before this date.")
    sources: list[str] | None = Field(None, description="Only articles from these sources.")
    as_of: dt.date | None = Field(None, description="Answer as of this date (default today).")


class BatchQuestion(BaseModel):
    id: str | None = None
    question: str


class BatchRequest(BaseModel):
    questions: list[str | BatchQuestion] = Field(..., description="Questions, as strings or {id, question}.")
    k: int = 5
    since: dt.date | None = None
    until: dt.date | None = None
    sources: list[str] | None = None
    as_of: dt.date | None = None


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


class HitOut(BaseModel):
    """One passage that answers the question, with its article's metadata."""

    text: str = Field(..., description="The passage text.")
    score: float = Field(..., description="Ranking score (higher is better; comparable within one answer).")
    article_id: str
    title: str
    date: dt.date | None = Field(None, description="The article's publication date.")
    source: str | None = None
    url: str | None = None
    position: int = Field(..., description="Index within its article of the passage that ranked.")
    span: list[int] = Field(
        ...,
        description="[start, end) of `text` in the article text: the passage, extended over an"
        " adjacent passage of the article that ranked too (setting merge_adjacent).",
    )
    highlight: str = Field(..., description="The sentence of the passage that best answers the question.")
    highlight_span: list[int] = Field(..., description="[start, end) of the highlight in `text`.")
    duplicates: list[str] = Field(..., description="Other articles carrying the same passage (syndication).")


class InterpretedOut(BaseModel):
    """A date window read from the question ("in November 2023"), used as a preference."""

    since: dt.date | None
    until: dt.date | None
    text: str = Field(..., description="The words it was read from.")


class AnswerOut(BaseModel):
    question: str
    as_of: dt.date
    interpreted: InterpretedOut | None
    hits: list[HitOut]


class ErrorResponse(BaseModel):
    """The body of every error response (documented so the OpenAPI schema matches what is sent)."""

    detail: str = Field(..., description="One line saying what was wrong.")
    errors: list[dict[str, Any]] | None = Field(None, description="Validation errors, field by field.")


def _errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {status: {"model": ErrorResponse, "description": "Error"} for status in statuses}


def create_app(settings: Settings, service_factory: Callable[[], QAService]) -> FastAPI:
    """The application; `service_factory` runs at startup, so tests and `qa serve` choose the service."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.service = service_factory()
        yield

    app = FastAPI(
        title="News QA",
        version="0.1.0",
        lifespan=lifespan,
        description="Ask a news archive questions; get passages with date, source, title and url.",
        responses=_errors(400, 413, 422, 503),
    )
    app.state.settings = settings

    def authorise(authorization: Annotated[str | None, Header()] = None) -> None:
        token = settings.api_token.get_secret_value() if settings.api_token else None
        if token:
            scheme, _, given = (authorization or "").strip().partition(" ")
            if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
                raise HTTPException(
                    401, "a valid bearer token is required for writes", headers={"WWW-Authenticate": "Bearer"}
                )
        elif not _is_loopback(settings.host):
            raise HTTPException(
                403,
                "writes are disabled: the server listens beyond loopback and no QA_API_TOKEN is configured",
            )

    def check_question(question: str) -> str:
        question = question.strip()
        if not question:
            raise HTTPException(422, "question must not be empty")
        if len(question) > settings.max_question_chars:
            raise HTTPException(422, f"question is longer than {settings.max_question_chars} characters")
        return question

    def check_k(k: int) -> int:
        if not 1 <= k <= settings.max_k:
            raise HTTPException(422, f"k must be between 1 and {settings.max_k}, got {k}")
        return k

    def check_dates(since: dt.date | None, until: dt.date | None) -> None:
        if since and until and since > until:
            raise HTTPException(422, f"since ({since}) is after until ({until})")

    @app.exception_handler(QAError)
    async def qa_error(request: Request, exc: QAError) -> JSONResponse:
        status = next((s for cls, s in _STATUS.items() if isinstance(exc, cls)), 400)
        return JSONResponse({"detail": str(exc)}, status_code=status)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        messages = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
        return JSONResponse(
            {"detail": "; ".join(messages), "errors": _jsonable(exc.errors())}, status_code=422
        )

    app.add_middleware(_BodyLimit, limit=settings.max_body_bytes)

    # Questions are answered on the event loop, not in the thread pool: a few milliseconds of
    # CPU each, so the hop to a thread and back costs more than it frees (bench_speed: +19%
    # requests/s). The answer is rendered straight to JSON; `AnswerOut` documents its shape.
    answer_responses: dict[int | str, dict[str, Any]] = {200: {"model": AnswerOut}}

    @app.post("/ask", summary="Answer a question with the closest passages", responses=answer_responses)
    async def ask(body: AskRequest, qa: Service) -> JSONResponse:
        check_k(body.k)
        check_dates(body.since, body.until)
        answer = qa.ask(
            check_question(body.question),
            body.k,
            since=body.since,
            until=body.until,
            sources=body.sources,
            as_of=body.as_of,
        )
        return JSONResponse(answer.to_dict())

    @app.get("/search", summary="Similarity search (same hits as /ask)", responses=answer_responses)
    async def search(
        qa: Service,
        q: Annotated[str, Query(description="The question.")],
        k: int = 5,
        since: dt.date | None = None,
        until: dt.date | None = None,
        source: Annotated[list[str] | None, Query()] = None,
        as_of: dt.date | None = None,
    ) -> JSONResponse:
        check_k(k)
        check_dates(since, until)
        answer = qa.ask(check_question(q), k, since=since, until=until, sources=source, as_of=as_of)
        return JSONResponse(answer.to_dict())

    @app.post("/ask/batch", summary="Answer many questions at once")
    def ask_batch(body: BatchRequest, qa: Service) -> dict[str, Any]:
        check_k(body.k)
        check_dates(body.since, body.until)
        if not body.questions:
            raise HTTPException(422, "questions must not be empty")
        if len(body.questions) > settings.max_batch:
            raise HTTPException(422, f"at most {settings.max_batch} questions per batch")
        items = [q if isinstance(q, BatchQuestion) else BatchQuestion(question=q) for q in body.questions]
        questions = [check_question(q.question) for q in items]
        answers = qa.ask_batch(
            questions, body.k, since=body.since, until=body.until, sources=body.sources, as_of=body.as_of
        )
        return {"answers": [{"id": q.id, **a.to_dict()} for q, a in zip(items, answers, strict=True)]}

    @app.get("/articles/{article_id}", summary="One indexed article", responses=_errors(404))
    def article(article_id: str, qa: Service) -> dict[str, Any]:
        return qa.article(article_id).to_record()

    @app.get(
        "/articles/{article_id}/related", summary="Articles most similar to this one", responses=_errors(404)
    )
    def related(article_id: str, qa: Service, k: int = 5) -> dict[str, Any]:
        check_k(k)
        return {"article_id": article_id, "related": [r.to_dict() for r in qa.related(article_id, k)]}

    @app.post(
        "/articles",
        summary="Add or update articles",
        dependencies=[Depends(authorise)],
        responses=_errors(401, 403),
    )
    def add_articles(body: ArticlesRequest, qa: Service) -> dict[str, Any]:
        if not body.articles:
            raise HTTPException(422, "articles must not be empty")
        if len(body.articles) > settings.max_articles_per_request:
            raise HTTPException(422, f"at most {settings.max_articles_per_request} articles per request")
        articles, problems = [], []
        for n, record in enumerate(body.articles):
            try:
                article = parse_record(record.model_dump(exclude_none=True), location=f"articles[{n}]")
            except InvalidArticleError as exc:
                problems.append(str(exc))
                continue
            if len(article.text) > settings.max_article_chars:
                problems.append(f"articles[{n}]: text longer than {settings.max_article_chars} characters")
            articles.append(article)
        if problems:
            raise HTTPException(422, "; ".join(problems))
        return qa.add(articles).summary()

    @app.delete(
        "/articles/{article_id}",
        summary="Delete an article",
        dependencies=[Depends(authorise)],
        responses=_errors(401, 403, 404),
    )
    def delete_article(article_id: str, qa: Service) -> dict[str, Any]:
        report = qa.delete([article_id])
        if report.missing:
            raise ArticleNotFoundError(f"no article with id {article_id!r}")
        return report.summary()

    @app.get("/health", summary="Liveness and index readiness")
    def health(qa: Service) -> dict[str, Any]:
        if not qa.exists():
            return {"status": "no index", "index": False}
        return {"status": "ok", "index": True, "version": qa.version()}

    @app.get("/stats", summary="Counts of articles and passages, model, index size")
    def stats(qa: Service) -> dict[str, Any]:
        return qa.stats()

    return app


class _BodyLimit:
    """ASGI middleware: 413 for a request body over `limit` bytes, whether declared or streamed."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        detail = f"request body over {self.limit} bytes"
        length = Headers(scope=scope).get("content-length")
        if length is not None and (not length.isdigit() or int(length) > self.limit):
            await JSONResponse({"detail": detail}, status_code=413)(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            # A chunked body declares no length: count it as the endpoint reads it.
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.limit:
                raise HTTPException(413, detail)
            return message

        await self.app(scope, counted, send)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _jsonable(errors: Any) -> Any:
    return [{k: _plain(v) for k, v in e.items()} for e in errors]


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return list(value)  # `loc` is a tuple: keep it a JSON array, not its Python repr
    return value if isinstance(value, (str, int, float, list, type(None))) else str(value)


def app_from_environment() -> FastAPI:
    """Factory for `uvicorn --factory qa.api:app_from_environment` (e.g. with several workers)."""
    from qa.service import open_service

    settings = Settings()
    return create_app(settings, lambda: open_service(settings))
