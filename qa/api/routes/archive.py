"""What the archive holds: `GET /sources` (its sources and where it ends), for filters and as-of choices."""

from __future__ import annotations

from fastapi import APIRouter

from qa.api.deps import Service
from qa.api.schemas import SourcesOut

router = APIRouter()


@router.get("/sources", response_model=SourcesOut, summary="The archive's sources and its newest date")
def sources(qa: Service) -> SourcesOut:
    return SourcesOut.of(qa.sources(), qa.newest())
