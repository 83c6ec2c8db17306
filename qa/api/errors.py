"""Errors at the edge: project exceptions become status codes; every error body is `{detail, errors}`."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from embeddings.errors import (
    ArticleNotFoundError,
    IndexLockedError,
    IndexMismatchError,
    IndexNotFoundError,
    IndexUnavailableError,
    InvalidArticleError,
    InvalidRequestError,
    QAError,
)
from qa.api.schemas import ErrorResponse

# The first class an error is an instance of decides; any other QAError is a 400.
STATUS: dict[type[QAError], int] = {
    ArticleNotFoundError: 404,
    InvalidArticleError: 422,
    InvalidRequestError: 422,
    IndexNotFoundError: 503,
    IndexLockedError: 503,
    IndexMismatchError: 503,
    IndexUnavailableError: 503,
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` documenting `ErrorResponse` for each status."""
    return {status: {"model": ErrorResponse, "description": "Error"} for status in statuses}


def add_exception_handlers(app: FastAPI) -> None:
    app.exception_handler(QAError)(qa_error)
    app.exception_handler(RequestValidationError)(invalid_request)


async def qa_error(request: Request, exc: QAError) -> JSONResponse:
    status = next((s for cls, s in STATUS.items() if isinstance(exc, cls)), 400)
    return JSONResponse({"detail": str(exc)}, status_code=status)


async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
    messages = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
    return JSONResponse({"detail": "; ".join(messages), "errors": _jsonable(exc.errors())}, status_code=422)


def _jsonable(errors: Any) -> Any:
    return [{k: _plain(v) for k, v in e.items()} for e in errors]


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return list(value)  # `loc` is a tuple: keep it a JSON array, not its Python repr
    return value if isinstance(value, (str, int, float, list, type(None))) else str(value)
