"""Questions: `POST /ask`, `GET /search` (the same answer from query parameters), `POST /ask/batch`."""

from __future__ import annotations

from typing import Annotated, TypeVar

from fastapi import APIRouter, HTTPException, Query
from fastapi.exceptions import RequestValidationError

from qa.api.bodies import MAX_SOURCES, AskRequest, BatchQuestion, BatchRequest, WrittenDate
from qa.api.deps import AppSettings, Service
from qa.api.errors import error_responses
from qa.api.schemas import AnswerOut, BatchOut
from qa.api.strict_json import StrictJSONRoute

T = TypeVar("T")

router = APIRouter(route_class=StrictJSONRoute)

# Questions are answered on the event loop, not in the thread pool: a few milliseconds of CPU
# each, so the hop to a thread and back costs more than it frees (bench_speed: +19% requests/s).
# Their dependencies are `async def` too: FastAPI runs a plain `def` dependency in the pool.


@router.post(
    "/ask",
    response_model=AnswerOut,
    summary="Answer a question with the closest passages",
    responses=error_responses(415),
)
async def ask(body: AskRequest, qa: Service) -> AnswerOut:
    answer = qa.ask(
        body.question,
        body.k,
        since=body.since,
        until=body.until,
        sources=body.sources,
        as_of=body.as_of,
        interpret=body.interpret,
    )
    return AnswerOut.of(answer)


def _renamed(name: str, value: T | None, old: str, old_value: T | None) -> T | None:
    """The parameter's value under its name or its old name; both at once is a 422."""
    if value is not None and old_value is not None:
        message = f"`{old}` is the old name of `{name}`: give one of them, not both"
        raise RequestValidationError(
            [{"type": "value_error", "loc": ("query", old), "msg": message, "input": old_value}]
        )
    return value if value is not None else old_value


# `q` and `source` are the old names of `question` and `sources`, kept working. Read here rather
# than in a sub-dependency, which FastAPI would solve at ~17 us a request.
@router.get("/search", response_model=AnswerOut, summary="Similarity search (same hits as /ask)")
async def search(
    qa: Service,
    question: Annotated[str | None, Query(description="The question.")] = None,
    k: int = 5,
    since: WrittenDate | None = None,
    until: WrittenDate | None = None,
    sources: Annotated[
        list[str] | None,
        Query(
            max_length=MAX_SOURCES, description=f"Only articles from these sources (at most {MAX_SOURCES})."
        ),
    ] = None,
    as_of: WrittenDate | None = None,
    interpret: Annotated[
        bool, Query(description="Read time expressions as a date window; false ignores them.")
    ] = True,
    q: Annotated[str | None, Query(description="Old name of `question`.", deprecated=True)] = None,
    source: Annotated[
        list[str] | None, Query(max_length=MAX_SOURCES, description="Old name of `sources`.", deprecated=True)
    ] = None,
) -> AnswerOut:
    question = _renamed("question", question, "q", q)
    if question is None:
        missing = {"type": "missing", "loc": ("query", "question"), "msg": "Field required", "input": None}
        raise RequestValidationError([missing])
    sources = _renamed("sources", sources, "source", source)
    answer = qa.ask(question, k, since=since, until=until, sources=sources, as_of=as_of, interpret=interpret)
    return AnswerOut.of(answer)


@router.post(
    "/ask/batch",
    response_model=BatchOut,
    summary="Answer many questions at once",
    responses=error_responses(415),
)
def ask_batch(body: BatchRequest, qa: Service, settings: AppSettings) -> BatchOut:
    # How many questions one request carries is its shape, checked here; the service checks the rest.
    if not body.questions:
        raise HTTPException(422, "questions must not be empty")
    if len(body.questions) > settings.max_batch:
        raise HTTPException(422, f"at most {settings.max_batch} questions per batch")
    items = [q if isinstance(q, BatchQuestion) else BatchQuestion(question=q) for q in body.questions]
    answers = qa.ask_batch(
        [q.question for q in items],
        body.k,
        since=body.since,
        until=body.until,
        sources=body.sources,
        as_of=body.as_of,
        interpret=body.interpret,
    )
    return BatchOut.of([q.id for q in items], answers)
