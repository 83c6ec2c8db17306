"""Questions: `POST /ask`, `GET /search` (the same answer from query parameters), `POST /ask/batch`."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query

from qa.api.bodies import AskRequest, BatchQuestion, BatchRequest
from qa.api.deps import AppSettings, Service
from qa.api.schemas import AnswerOut, BatchOut

router = APIRouter()

# Questions are answered on the event loop, not in the thread pool: a few milliseconds of CPU
# each, so the hop to a thread and back costs more than it frees (bench_speed: +19% requests/s).


@router.post("/ask", response_model=AnswerOut, summary="Answer a question with the closest passages")
async def ask(body: AskRequest, qa: Service) -> AnswerOut:
    answer = qa.ask(
        body.question, body.k, since=body.since, until=body.until, sources=body.sources, as_of=body.as_of
    )
    return AnswerOut.of(answer)


@router.get("/search", response_model=AnswerOut, summary="Similarity search (same hits as /ask)")
async def search(
    qa: Service,
    q: Annotated[str, Query(description="The question.")],
    k: int = 5,
    since: dt.date | None = None,
    until: dt.date | None = None,
    source: Annotated[list[str] | None, Query()] = None,
    as_of: dt.date | None = None,
) -> AnswerOut:
    answer = qa.ask(q, k, since=since, until=until, sources=source, as_of=as_of)
    return AnswerOut.of(answer)


@router.post("/ask/batch", response_model=BatchOut, summary="Answer many questions at once")
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
    )
    return BatchOut.of([q.id for q in items], answers)
