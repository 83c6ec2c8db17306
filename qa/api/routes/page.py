"""The page for people: `GET /` and its static files (`qa/api/static/`), plain HTML, CSS and JS.

The page asks the JSON API (`/search`, `/sources`, `/articles/...`) from the browser; it needs no
build step and loads nothing from another host.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

STATIC = Path(__file__).resolve().parents[1] / "static"

router = APIRouter(include_in_schema=False)
router.mount("/static", StaticFiles(directory=STATIC), name="static")


# Everything from this server, no inline script or style: text that got into the page as markup
# despite page.js could still not run script or load anything from elsewhere.
POLICY = (
    "default-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


@router.get("/")
async def page() -> FileResponse:
    return FileResponse(
        STATIC / "index.html", media_type="text/html", headers={"Content-Security-Policy": POLICY}
    )
