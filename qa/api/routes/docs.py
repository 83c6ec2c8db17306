"""API documentation that works offline: Swagger UI at `/docs`, ReDoc at `/redoc`, assets served locally.

FastAPI's own pages load their scripts from a CDN; these load the copies the `fastapi-offline` package
ships (Swagger UI 5, ReDoc 2), so the documentation renders on a machine without a network.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS = "/docs/assets"
ASSETS_DIR = Path(str(files("fastapi_offline") / "static"))  # swagger-ui-bundle.js, swagger-ui.css, redoc...
OAUTH2_REDIRECT = "/docs/oauth2-redirect"
# No online validator badge: Swagger UI would ask validator.swagger.io about the schema.
SWAGGER_PARAMETERS = {"validatorUrl": None}

router = APIRouter(include_in_schema=False)
router.mount(ASSETS, StaticFiles(directory=ASSETS_DIR), name="docs-assets")


def _base(request: Request) -> str:
    return str(request.scope.get("root_path", ""))


@router.get("/docs")
async def swagger_ui(request: Request) -> HTMLResponse:
    base, app = _base(request), request.app
    return get_swagger_ui_html(
        openapi_url=f"{base}{app.openapi_url}",
        title=f"{app.title} - Swagger UI",
        oauth2_redirect_url=f"{base}{OAUTH2_REDIRECT}",
        swagger_js_url=f"{base}{ASSETS}/swagger-ui-bundle.js",
        swagger_css_url=f"{base}{ASSETS}/swagger-ui.css",
        swagger_favicon_url=f"{base}{ASSETS}/favicon.png",
        swagger_ui_parameters=SWAGGER_PARAMETERS | (app.swagger_ui_parameters or {}),
    )


@router.get(OAUTH2_REDIRECT)
async def swagger_ui_redirect() -> HTMLResponse:
    return get_swagger_ui_oauth2_redirect_html()


@router.get("/redoc")
async def redoc(request: Request) -> HTMLResponse:
    base, app = _base(request), request.app
    page = get_redoc_html(
        openapi_url=f"{base}{app.openapi_url}",
        title=f"{app.title} - ReDoc",
        redoc_js_url=f"{base}{ASSETS}/redoc.standalone.js",
        redoc_favicon_url=f"{base}{ASSETS}/favicon.png",
        with_google_fonts=False,
    )
    # ReDoc's sidebar always shows the Redocly logo from Redocly's CDN; images from this server only,
    # so the browser never asks for it (the footer keeps its text).
    page.headers["Content-Security-Policy"] = "img-src 'self' data:"
    return page
