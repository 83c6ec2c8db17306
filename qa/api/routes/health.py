"""State of the service: `GET /health` (liveness, index readiness) and `GET /stats`."""

from __future__ import annotations

from fastapi import APIRouter

from qa.api.deps import Service
from qa.api.schemas import HealthOut, StatsOut

router = APIRouter()


# exclude_none: without an index the body is `{"status": "no index", "index": false}`, no version.
@router.get(
    "/health",
    response_model=HealthOut,
    response_model_exclude_none=True,
    summary="Liveness and index readiness",
)
def health(qa: Service) -> HealthOut:
    if not qa.exists():
        return HealthOut(status="no index", index=False)
    return HealthOut(status="ok", index=True, version=qa.version())


@router.get("/stats", response_model=StatsOut, summary="Counts of articles and passages, model, index size")
def stats(qa: Service) -> StatsOut:
    return StatsOut.model_validate(qa.stats())
