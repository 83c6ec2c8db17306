"""`GET /metrics`: the Prometheus text format (included when `Settings.metrics` is on)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST

router = APIRouter(include_in_schema=False)


# A plain `def`: the index figures may open a newly published version, which reads files.
@router.get("/metrics")
def metrics(request: Request) -> Response:
    return Response(request.app.state.metrics.render(), media_type=CONTENT_TYPE_LATEST)
