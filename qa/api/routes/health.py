"""State of the service: `GET /health` (liveness, index readiness, damage) and `GET /stats`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Request, Response

from embeddings.errors import IndexCorruptError, IndexMismatchError, IndexUnavailableError
from qa.api.deps import AppSettings, Service, may_write
from qa.api.errors import public_message
from qa.api.schemas import HealthOut, StatsOut

router = APIRouter()


# exclude_none: without an index the body is `{"status": "no index", "index": false}`, no version.
@router.get(
    "/health",
    response_model=HealthOut,
    response_model_exclude_none=True,
    summary="Liveness and index readiness",
    responses={
        503: {"model": HealthOut, "description": "The live index version is damaged or cannot be read now"}
    },
)
def health(qa: Service, settings: AppSettings, response: Response) -> HealthOut:
    if not qa.exists():
        return HealthOut(status="no index", index=False)
    try:
        version = qa.version()
    except IndexCorruptError as exc:  # a load balancer takes a server answering 503 out of rotation
        response.status_code = 503
        return HealthOut(status="damaged", index=True, detail=public_message(exc, settings))
    # Nothing damaged, but no answers until it can be read (or, built with another model than
    # the configured one, until either changes).
    except (IndexUnavailableError, IndexMismatchError) as exc:
        response.status_code = 503
        return HealthOut(status="unavailable", index=True, detail=public_message(exc, settings))
    return HealthOut(status="ok", index=True, version=version)


@router.get(
    "/stats",
    response_model=StatsOut,
    response_model_exclude_none=True,
    summary="Counts of articles and passages, model, index size",
)
def stats(
    request: Request,
    qa: Service,
    settings: AppSettings,
    authorization: Annotated[str | None, Header()] = None,
) -> StatsOut:
    body = qa.stats()
    if not may_write(settings, authorization, request):  # where the index lives is for those who may write
        body.pop("index_dir", None)
    return StatsOut.model_validate(body)
